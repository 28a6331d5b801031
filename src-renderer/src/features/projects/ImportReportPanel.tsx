import { useStore } from '../../store';

/** What the last import did: counts, and every skipped file by name with its reason. */
export function ImportReportPanel() {
  const report = useStore((s) => s.lastReport);
  const dismiss = useStore((s) => s.dismissReport);
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
