import { useEffect, useState } from 'react';
import type { UnsplashPhoto } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { useStore } from '../../store';
import { openSettings } from '../settings';
import { addUnsplashPhoto, searchUnsplash } from './actions';

/**
 * Unsplash search on the mood board: results with their thumbnails (fetched by the app itself and
 * shown from its own image route) and credits; "Add to board" pins one, credited and with its
 * palette. Needs the access key, set in Settings.
 */
export function UnsplashSearch() {
  const settingsOpen = useStore((s) => s.settingsOpen);
  const [configured, setConfigured] = useState<boolean | null>(null);
  const [query, setQuery] = useState('');
  const [searched, setSearched] = useState('');
  const [results, setResults] = useState<UnsplashPhoto[]>([]);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<Set<string>>(new Set());
  const [adding, setAdding] = useState<string | null>(null);

  // Whether a key is set: asked when the panel opens and again when Settings closes.
  useEffect(() => {
    if (settingsOpen) return;
    void getClient()
      .call('settings.get', {})
      .then(
        (s) => setConfigured(s.unsplashConfigured),
        () => setConfigured(false),
      );
  }, [settingsOpen]);

  const search = async (text: string, at: number): Promise<void> => {
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const found = await searchUnsplash(text.trim(), at);
      setResults((before) => (at === 1 ? found.results : [...before, ...found.results]));
      setTotal(found.total);
      setPage(at);
      setSearched(text.trim());
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const add = async (photo: UnsplashPhoto): Promise<void> => {
    setAdding(photo.id);
    if (await addUnsplashPhoto(photo.id)) setAdded((s) => new Set(s).add(photo.id));
    setAdding(null);
  };

  const client = getClient();
  return (
    <section className="unsplash-search" aria-label="Unsplash search" data-testid="unsplash-search">
      {configured === false ? (
        <p className="muted" data-testid="unsplash-needs-key">
          Searching Unsplash needs your Unsplash access key.{' '}
          <button type="button" className="link-button" onClick={() => openSettings()}>
            Open Settings (Ctrl+,)
          </button>
        </p>
      ) : (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void search(query, 1);
          }}
        >
          <input
            type="search"
            className="grow"
            aria-label="Search Unsplash"
            placeholder="neon portrait, teal wall…"
            maxLength={200}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          <button type="submit" disabled={busy || !query.trim()}>
            {busy ? 'Searching…' : 'Search'}
          </button>
        </form>
      )}
      {error && (
        <p className="unsplash-error" role="alert">
          {error}
        </p>
      )}
      {searched && !busy && !error && results.length === 0 && <p className="muted">Nothing on Unsplash for “{searched}”.</p>}
      {results.length > 0 && (
        <>
          <p className="muted small">
            {total.toLocaleString()} photo{total === 1 ? '' : 's'} for “{searched}” · photos from Unsplash, credited on the board
          </p>
          <ul className="unsplash-results">
            {results.map((photo) => {
              const title = photo.description ?? `Photo by ${photo.author}`;
              return (
                <li key={photo.id} className="unsplash-result" data-testid="unsplash-result" data-photo-id={photo.id}>
                  {photo.thumbPath ? (
                    <img src={client.mediaUrl(photo.thumbPath)} alt={title} decoding="async" draggable={false} />
                  ) : (
                    <div className="unsplash-nothumb">{title}</div>
                  )}
                  <div className="unsplash-credit" title={title}>
                    Photo by {photo.author}
                  </div>
                  <button
                    type="button"
                    disabled={added.has(photo.id) || adding !== null}
                    onClick={() => void add(photo)}
                    aria-label={`Add “${title}” by ${photo.author} to the board`}
                  >
                    {added.has(photo.id) ? 'Added ✓' : adding === photo.id ? 'Adding…' : 'Add to board'}
                  </button>
                </li>
              );
            })}
          </ul>
          {results.length < total && (
            <button type="button" disabled={busy} onClick={() => void search(searched, page + 1)}>
              More results
            </button>
          )}
        </>
      )}
    </section>
  );
}
