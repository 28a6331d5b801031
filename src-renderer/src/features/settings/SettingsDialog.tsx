import { useCallback, useEffect, useRef, useState } from 'react';
import type { LlmSettings } from '../../../../src-main/core/api/index';
import { useModal } from '../../shared/use-modal';
import { BackendsSection } from './BackendsSection';
import { closeSettings, loadSettings, saveLlm, setUnsplashKey, testLlm, testUnsplash, type Outcome } from './actions';

/** "set" / "not set" for a stored key: the key itself never comes back from the core. */
function KeyState({ set, testId }: { set: boolean; testId: string }) {
  return (
    <span className={set ? 'key-state set' : 'key-state'} data-testid={testId}>
      {set ? 'set' : 'not set'}
    </span>
  );
}

function OutcomeLine({ outcome, testId }: { outcome: Outcome | null; testId: string }) {
  if (!outcome) return null;
  return (
    <p className={outcome.ok ? 'settings-outcome ok' : 'settings-outcome error'} role="status" data-testid={testId}>
      {outcome.ok ? '✓ ' : ''}
      {outcome.text}
    </p>
  );
}

/**
 * Settings (Ctrl+,): the Unsplash access key (for searching Unsplash from the mood board), the
 * language model endpoint the Composer drafts with, each with "Test connection", and the GPU
 * backends (this computer and ComfyUI servers: BackendsSection). Stored keys show
 * as "set" or "not set", with Replace and Clear; they are never shown again.
 */
export function SettingsDialog() {
  const dialog = useRef<HTMLDivElement>(null);
  const close = useCallback(() => closeSettings(), []);
  useModal(dialog, close);

  const [unsplashSet, setUnsplashSet] = useState(false);
  const [llm, setLlm] = useState<LlmSettings | null>(null);
  const [unsplashKey, setUnsplashKeyText] = useState('');
  const [unsplashOutcome, setUnsplashOutcome] = useState<Outcome | null>(null);
  const [baseUrl, setBaseUrl] = useState('');
  const [model, setModel] = useState('');
  const [llmKey, setLlmKey] = useState('');
  const [llmOutcome, setLlmOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    void loadSettings().then(
      (state) => {
        setUnsplashSet(state.unsplashConfigured);
        setLlm(state.llm);
        setBaseUrl(state.llm.baseUrl ?? '');
        setModel(state.llm.model ?? '');
      },
      (error: unknown) => setUnsplashOutcome({ ok: false, text: error instanceof Error ? error.message : String(error) }),
    );
  }, []);

  const run = async (what: string, work: () => Promise<void>): Promise<void> => {
    setBusy(what);
    try {
      await work();
    } finally {
      setBusy(null);
    }
  };

  const saveUnsplash = (key: string | null): Promise<void> =>
    run('unsplash-save', async () => {
      const outcome = await setUnsplashKey(key);
      setUnsplashOutcome(outcome);
      if (outcome.ok) {
        setUnsplashSet(key !== null);
        setUnsplashKeyText('');
      }
    });

  const saveModel = (key: string | null | undefined): Promise<void> =>
    run('llm-save', async () => {
      const outcome = await saveLlm(
        key === null ? (llm?.baseUrl ?? '') : baseUrl,
        key === null ? (llm?.model ?? '') : model,
        key,
        llm?.hasKey,
      );
      setLlmOutcome(outcome);
      if (outcome.llm) {
        setLlm(outcome.llm);
        setLlmKey('');
      }
    });

  const llmChanged = llm !== null && (baseUrl.trim() !== (llm.baseUrl ?? '') || model.trim() !== (llm.model ?? '') || llmKey !== '');

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div ref={dialog} className="modal settings" role="dialog" aria-modal="true" aria-labelledby="settings-title" data-testid="settings">
        <div className="panel-head">
          <h2 id="settings-title">Settings</h2>
          <span className="spacer" />
          <button type="button" className="link" onClick={close} aria-label="Close settings">
            ✕
          </button>
        </div>

        <section className="settings-block" aria-labelledby="settings-unsplash">
          <h3 id="settings-unsplash">Unsplash</h3>
          <p className="muted small">
            Search Unsplash from the mood board and pin photos with their credit. Needs your app’s Access Key from unsplash.com/developers.
          </p>
          <div className="settings-row">
            <span>Access key:</span> <KeyState set={unsplashSet} testId="unsplash-key-state" />
          </div>
          <form
            className="settings-row"
            onSubmit={(e) => {
              e.preventDefault();
              if (unsplashKey.trim()) void saveUnsplash(unsplashKey.trim());
            }}
          >
            <label className="grow">
              <span className="visually-hidden">{unsplashSet ? 'New Unsplash access key' : 'Unsplash access key'}</span>
              <input
                type="password"
                autoComplete="off"
                spellCheck={false}
                aria-label={unsplashSet ? 'New Unsplash access key' : 'Unsplash access key'}
                placeholder={unsplashSet ? 'Paste a new key to replace it' : 'Paste the Access Key'}
                value={unsplashKey}
                maxLength={200}
                onChange={(e) => setUnsplashKeyText(e.target.value)}
              />
            </label>
            <button type="submit" disabled={!unsplashKey.trim() || busy !== null}>
              {unsplashSet ? 'Replace key' : 'Save key'}
            </button>
            <button type="button" disabled={!unsplashSet || busy !== null} onClick={() => void saveUnsplash(null)}>
              Clear key
            </button>
            <button
              type="button"
              disabled={(!unsplashSet && !unsplashKey.trim()) || busy !== null}
              onClick={() => void run('unsplash-test', async () => setUnsplashOutcome(await testUnsplash(unsplashKey)))}
              title={unsplashKey.trim() ? 'Test the key typed here' : 'Test the saved key'}
            >
              {busy === 'unsplash-test' ? 'Testing…' : 'Test connection'}
            </button>
          </form>
          <OutcomeLine outcome={unsplashOutcome} testId="unsplash-outcome" />
        </section>

        <section className="settings-block" aria-labelledby="settings-llm">
          <h3 id="settings-llm">Language model</h3>
          <p className="muted small">
            For the Composer’s prompt drafts: any OpenAI-compatible chat endpoint (a local server works). Without one, drafts are made
            offline.
          </p>
          <form
            className="settings-grid"
            onSubmit={(e) => {
              e.preventDefault();
              void saveModel(llmKey ? llmKey : undefined);
            }}
          >
            <label htmlFor="llm-base-url">Base URL</label>
            <input
              id="llm-base-url"
              type="text"
              spellCheck={false}
              placeholder="http://127.0.0.1:8080/v1"
              value={baseUrl}
              onChange={(e) => setBaseUrl(e.target.value)}
            />
            <label htmlFor="llm-model">Model</label>
            <input
              id="llm-model"
              type="text"
              spellCheck={false}
              placeholder="llama-3.1-8b-instruct"
              value={model}
              onChange={(e) => setModel(e.target.value)}
            />
            <label htmlFor="llm-key">API key</label>
            <div className="settings-row">
              <KeyState set={llm?.hasKey ?? false} testId="llm-key-state" />
              <input
                id="llm-key"
                className="grow"
                type="password"
                autoComplete="off"
                spellCheck={false}
                placeholder={llm?.hasKey ? 'Type a new key to replace it' : 'Optional (local servers need none)'}
                value={llmKey}
                maxLength={500}
                onChange={(e) => setLlmKey(e.target.value)}
              />
              <button type="button" disabled={!llm?.hasKey || busy !== null} onClick={() => void saveModel(null)}>
                Clear key
              </button>
            </div>
            <div className="settings-actions">
              <button type="submit" className="primary" disabled={!llmChanged || busy !== null}>
                Save
              </button>
              <button
                type="button"
                disabled={(!baseUrl.trim() && !llm?.baseUrl) || busy !== null}
                onClick={() => void run('llm-test', async () => setLlmOutcome(await testLlm(baseUrl, model, llmKey)))}
              >
                {busy === 'llm-test' ? 'Testing…' : 'Test connection'}
              </button>
            </div>
          </form>
          <OutcomeLine outcome={llmOutcome} testId="llm-outcome" />
        </section>

        <BackendsSection />

        <div className="modal-actions">
          <button type="button" onClick={close}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
