import type { ImageSummary, Job } from '../../../../src-main/core/api/index';
import { useStore } from '../../store';
import { jobOrigin } from './fast-draft';

/** "Draft" on an image its job made with Draft on, "Refined" on one Refine made (cells, the loupe, compare); nothing otherwise. */
export function DraftMark({ image }: { image: ImageSummary }) {
  const origin = useStore((s) => jobOrigin(s.jobs, image.jobId));
  if (!origin) return null;
  return (
    <span
      className={`draft-mark ${origin}`}
      data-testid="draft-mark"
      data-origin={origin}
      title={origin === 'draft' ? 'Draft: made with the fast settings (R refines it)' : 'Refined from a draft'}
    >
      {origin === 'draft' ? 'Draft' : 'Refined'}
    </span>
  );
}

/**
 * The loupe info panel's line for a draft or a refined image: "Draft" with a Refine button (R), or
 * the draft it was refined from and how (same seed, or img2img at a strength).
 */
export function DraftInfoRow({ image, onRefine }: { image: ImageSummary; onRefine(): void }) {
  const job = useStore((s) => (image.jobId === null ? undefined : s.jobs.find((j) => j.id === image.jobId)));
  const source = useStore((s) => (job?.refines == null ? undefined : s.images.find((i) => i.id === job.refines)));
  if (!job || (!job.draft && job.refines === null)) return null;
  if (job.draft)
    return (
      <div className="info-row" data-field="draft">
        <dt>Made as</dt>
        <dd>
          <DraftMark image={image} /> fast settings{' '}
          <button type="button" className="link" onClick={onRefine} title="Refine this draft at the full settings (R)">
            Refine
          </button>
        </dd>
      </div>
    );
  const how = job.init ? `img2img at strength ${job.init.strength}` : 'same seed, full settings';
  return (
    <div className="info-row" data-field="refined">
      <dt>Refined from</dt>
      <dd>
        {source ? source.fileName : `image ${job.refines}`} ({how})
      </dd>
    </div>
  );
}

/** A queue card's mark: "Draft", or "Refine" (with img2img's strength). */
export function JobOriginMark({ job }: { job: Job }) {
  if (!job.draft && job.refines === null) return null;
  const text = job.draft ? 'Draft' : job.init ? `Refine · img2img ${job.init.strength}` : 'Refine';
  return (
    <span className={`draft-mark ${job.draft ? 'draft' : 'refined'}`} data-testid="job-origin">
      {text}
    </span>
  );
}
