import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ImageSummary } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { BrandBadge } from '../../shared/BrandBadge';
import { Marks } from '../../shared/Marks';
import { useStore } from '../../store';
import { dragOut } from '../curation/actions';
import { LabelMark } from '../curation/ColourLabel';
import { DraftMark } from '../generation/DraftMark';
import { reportActivity } from '../timecost/actions';
import type { StackInfo } from './view';
import { isGridPainted, markGridPainted } from './painted';
import { noteGridScroll } from './scrolling';

/** Rows rendered above and below the viewport, so fast scrolling shows no gaps. */
const OVERSCAN_ROWS = 3;
const GAP = 6;

/**
 * The thumbnail grid, virtualized: only the rows in view (plus a few) exist in the DOM, so 10,000
 * images scroll as smoothly as 10.
 */
export function Grid() {
  const images = useStore((s) => s.images);
  const selected = useStore((s) => s.selected);
  const cellSize = useStore((s) => s.cellSize);
  const selection = useStore((s) => s.selection);
  const showSharpness = useStore((s) => s.showSharpness);
  const setGridShape = useStore((s) => s.setGridShape);
  const thumbRevisions = useStore((s) => s.thumbRevisions);
  const stackInfo = useStore((s) => s.stackInfo);
  const expandedStacks = useStore((s) => s.stacks.expanded);
  const streamTotal = useStore((s) => s.streamTotal);
  const arrived = useStore((s) => s.allImages.length);
  const scroller = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState({ width: 0, height: 0 });
  const [scrollTop, setScrollTop] = useState(0);
  const frame = useRef(0);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setViewport({ width: el.clientWidth, height: el.clientHeight }));
    observer.observe(el);
    setViewport({ width: el.clientWidth, height: el.clientHeight });
    return () => observer.disconnect();
  }, []);

  const columns = Math.max(1, Math.floor((viewport.width - GAP) / cellSize));
  const cell = viewport.width > 0 ? Math.floor((viewport.width - GAP) / columns) : cellSize;
  // Images still streaming in already take their place: the scroll height is the project's at once.
  const pending = streamTotal === null ? 0 : Math.max(0, streamTotal - arrived);
  const rows = Math.ceil((images.length + pending) / columns);
  const visibleRows = Math.max(1, Math.floor(viewport.height / cell));

  useEffect(() => setGridShape(columns, visibleRows), [columns, visibleRows, setGridShape]);

  // Keep the selection in view when it moves by keyboard.
  useEffect(() => {
    const el = scroller.current;
    if (!el || selected < 0) return;
    const top = Math.floor(selected / columns) * cell;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + cell > el.scrollTop + el.clientHeight) el.scrollTop = top + cell - el.clientHeight + GAP;
  }, [selected, columns, cell]);

  // Once the thumbnails in view are decoded, the rest of a large project may stream in (see painted.ts).
  // Once only: later changes of the images (scores arriving while the grid scrolls) ask no decodes.
  useEffect(() => {
    if (isGridPainted()) return;
    const el = scroller.current;
    const imgs = el ? Array.from(el.querySelectorAll<HTMLImageElement>('img.thumb')) : [];
    if (imgs.length === 0) return;
    let live = true;
    void Promise.all(imgs.map((img) => img.decode().catch(() => undefined))).then(() => {
      if (live) markGridPainted();
    });
    return () => {
      live = false;
    };
  }, [images]);

  const onScroll = useCallback(() => {
    noteGridScroll();
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => setScrollTop(scroller.current?.scrollTop ?? 0));
  }, []);

  const firstRow = Math.max(0, Math.floor(scrollTop / cell) - OVERSCAN_ROWS);
  const lastRow = Math.min(rows, Math.ceil((scrollTop + viewport.height) / cell) + OVERSCAN_ROWS);
  const chosen = new Set(selection.length > 1 ? selection : []);
  const cells = [];
  for (let index = firstRow * columns; index < Math.min(images.length, lastRow * columns); index++) {
    const image = images[index]!;
    const x = (index % columns) * cell + GAP;
    const y = Math.floor(index / columns) * cell + GAP;
    const stack = image.jobId === null ? undefined : stackInfo[image.jobId];
    const open = stack !== undefined && expandedStacks.includes(image.jobId!);
    cells.push(
      <GridCell
        key={image.id}
        image={image}
        index={index}
        x={x}
        y={y}
        size={cell - GAP}
        active={index === selected}
        chosen={chosen.has(image.id)}
        stack={stack}
        open={open}
        showSharpness={showSharpness}
        revision={thumbRevisions[image.id] ?? 0}
      />,
    );
  }

  // Places of images not arrived yet, in view: grey until their page comes.
  for (let index = Math.max(images.length, firstRow * columns); index < Math.min(images.length + pending, lastRow * columns); index++) {
    const x = (index % columns) * cell + GAP;
    const y = Math.floor(index / columns) * cell + GAP;
    cells.push(
      <div
        key={`pending-${index}`}
        className="cell-pending"
        style={{ transform: `translate(${x}px, ${y}px)`, width: cell - GAP, height: cell - GAP }}
      />,
    );
  }

  return (
    <div className="grid-scroll" ref={scroller} onScroll={onScroll} data-testid="grid" data-columns={columns}>
      <div className="grid-canvas" style={{ height: rows * cell + GAP }}>
        {cells}
      </div>
    </div>
  );
}

interface GridCellProps {
  image: ImageSummary;
  index: number;
  x: number;
  y: number;
  size: number;
  /** The active image (the keyboard's, the loupe's). */
  active: boolean;
  /** In a multi-selection. */
  chosen: boolean;
  stack: StackInfo | undefined;
  open: boolean;
  showSharpness: boolean;
  /** Bumped when the thumbnail is re-made, so the browser loads it again. */
  revision: number;
}

/**
 * One cell of the grid. Memoised: a cell renders again only when its own image or place changes,
 * so an update of images out of view (a focus score, a colour analysis, a page streaming in)
 * costs the grid nothing while it scrolls.
 */
const GridCell = memo(function GridCell({ image, index, x, y, size, active, chosen, stack, open, showSharpness, revision }: GridCellProps) {
  const client = getClient();
  const stackClass = !stack ? '' : stack.top === image.id ? (open ? ' stack-top open' : ' stack-top') : ' in-stack';
  return (
    <div
      className={`cell${active ? ' selected' : ''}${chosen ? ' in-selection' : ''}${image.flag === 'reject' ? ' rejected' : ''}${stackClass}`}
      style={{ transform: `translate(${x}px, ${y}px)`, width: size, height: size }}
      data-index={index}
      data-image-id={image.id}
      data-rating={image.rating}
      data-flag={image.flag}
      data-label={image.label}
      data-stack={stack ? (stack.top === image.id ? stack.size : 'member') : undefined}
      onClick={(event) => {
        const state = useStore.getState();
        if (event.shiftKey) state.extendTo(index);
        else if (event.ctrlKey || event.metaKey) state.toggleSelected(index);
        else state.select(index);
        reportActivity('curate');
      }}
      draggable={client.canDragOut}
      onDragStart={(event) => {
        // Electron drags the real files out (webContents.startDrag), not the page's element.
        event.preventDefault();
        dragOut(image);
      }}
      onDoubleClick={() => {
        const state = useStore.getState();
        state.select(index);
        state.setMode('loupe');
        reportActivity('curate');
      }}
      title={`${image.fileName} — ${image.width}×${image.height}`}
    >
      {image.thumbPath ? (
        <img
          className="thumb"
          src={client.mediaUrl(image.thumbPath) + (revision ? `&v=${revision}` : '')}
          alt={image.fileName}
          decoding="async"
          draggable={false}
        />
      ) : (
        <div className="thumb pending" aria-label="Thumbnail pending" />
      )}
      <Marks image={image} sharpness={showSharpness} />
      <BrandBadge image={image} />
      <LabelMark image={image} />
      <DraftMark image={image} />
      {stack && stack.top === image.id && (
        <button
          type="button"
          className="stack-badge"
          data-testid="stack-badge"
          title={`${stack.size} images of job #${image.jobId}: ${open ? 'close' : 'open'} the stack (K)`}
          onClick={(event) => {
            event.stopPropagation();
            const state = useStore.getState();
            state.select(index);
            state.toggleStack(image.jobId!);
          }}
        >
          {open ? '▾' : '▸'} {stack.size}
        </button>
      )}
      <span className="cell-name">{image.fileName}</span>
    </div>
  );
});
