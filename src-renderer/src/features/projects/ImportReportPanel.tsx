import { formatBytes } from '../../../../src-main/core/common/index';
import { useStore } from '../../store';

/** An upload from the browser while it is sent and imported: files, bytes, a bar. */
function UploadPanel() {
  const upload = useStore((s) => s.upload);
  if (!upload) return null;
  const what = upload.kind === 'images' ? 'into the project' : 'to the mood board';
  const files = `${upload.files} file${upload.files === 1 ? '' : 's'}`;
  return (
    <aside className="report upload-progress" data-testid="upload-progress" role="status" data-kind={upload.kind}>
      <div className="report-head">
        <strong>{upload.importing ? `Importing ${files} ${what}…` : `Uploading ${files} ${what}`}</strong>
        <span>
          {' '}
          · {formatBytes(upload.sent)} of {formatBytes(upload.total)}
        </span>
      </div>
      <progress max={Math.max(1, upload.total)} value={upload.sent} aria-label="Upload progress" />
    </aside>
  );
}

/** What the last import did: counts, and every skipped file by name with its reason; an upload's progress while it runs. */
export function ImportReportPanel() {
  const report = useStore((s) => s.lastReport);
  const dismiss = useStore((s) => s.dismissReport);
  const uploading = useStore((s) => s.upload !== null);
  if (uploading) return <UploadPanel />;
  if (!report) return null;
  const problems = report.skipped.length > 0;
  return (
    <aside className={problems ? 'report warn' : 'report'} data-testid="import-report" role="status">
      <div className="report-head">
        <strong>
          Imported {report.imported.length} image{report.imported.length === 1 ? '' : 's'}
        </strong>
        {report.duplicates.length > 0 && <span> · {report.duplicates.length} already in the project</span>}
        {problems && <span> · {report.skipped.length} skipped</span>}
        <button type="button" className="link" onClick={dismiss} aria-label="Dismiss">
          ✕
        </button>
      </div>
      {problems && (
        <ul className="report-skips">
          {report.skipped.map((s) => (
            <li key={s.path} data-reason={s.reason}>
              {s.message}
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}
