import { describe, expect, it } from 'vitest';
import type { BackendView } from '../../../../src-main/core/api/index';
import { backendState, formField, headerInput, inventoryText, mappingRecord, mappingRows } from './backends-format';

function view(fields: Partial<BackendView> = {}): BackendView {
  return {
    name: 'studio-1',
    kind: 'comfyui',
    url: 'https://gpu-1.studio.example',
    headerNames: [],
    concurrency: 2,
    enabled: true,
    ratePerHour: 1.2,
    allowInsecure: false,
    timeoutSeconds: 120,
    models: {},
    loras: {},
    state: 'idle',
    running: 0,
    made: 0,
    reason: null,
    inventory: { checkpoints: ['a.safetensors', 'b.safetensors', 'c.ckpt'], loras: ['x.safetensors', 'y.safetensors'], checkedAt: '' },
    ...fields,
  };
}

describe('GPU backends in Settings: words and checks', () => {
  it('names the state: idle, busy N, paused with the reason, disabled, not answering with the last error', () => {
    expect(backendState(view())).toEqual({ text: 'idle', tone: 'ok', reason: null });
    expect(backendState(view({ state: 'busy', running: 3 }))).toEqual({ text: 'busy 3', tone: 'busy', reason: null });
    expect(backendState(view({ state: 'paused', reason: 'Paused after 3 failed images in a row' }))).toEqual({
      text: 'paused',
      tone: 'warn',
      reason: 'Paused after 3 failed images in a row',
    });
    expect(backendState(view({ enabled: false, state: 'disabled' })).text).toBe('disabled');
    expect(backendState(view({ inventory: null, reason: 'ComfyUI "studio-1" did not answer: ECONNREFUSED' }))).toEqual({
      text: 'not answering',
      tone: 'warn',
      reason: 'ComfyUI "studio-1" did not answer: ECONNREFUSED',
    });
    expect(backendState(view({ inventory: null })).text).toBe('not asked yet');
    // The local engine has no inventory: it is idle, or off.
    expect(backendState(view({ kind: 'local', name: 'local', url: null, inventory: null })).text).toBe('idle');
    expect(backendState(view({ kind: 'local', name: 'local', url: null, inventory: null, enabled: false })).text).toBe('off');
  });

  it('counts what a server has, with the names for the tooltip', () => {
    expect(inventoryText(view())).toEqual({
      text: '3 checkpoints, 2 LoRAs',
      names: 'Checkpoints: a.safetensors, b.safetensors, c.ckpt\nLoRAs: x.safetensors, y.safetensors',
    });
    expect(inventoryText(view({ inventory: { checkpoints: ['a'], loras: [], checkedAt: '' } }))?.text).toBe('1 checkpoint, 0 LoRAs');
    expect(inventoryText(view({ inventory: null }))).toBeNull();
  });

  it('places a core error beside the field its path names', () => {
    expect(formField('url')).toBe('url');
    expect(formField('concurrency')).toBe('concurrency');
    expect(formField('headers.Authorization')).toBe('headers');
    expect(formField('models.sd15')).toBe('models');
    expect(formField(undefined)).toBeUndefined();
    expect(formField('projectId')).toBeUndefined();
  });

  it('turns the renamed-file rows into a table, refusing half-filled and repeated rows', () => {
    expect(
      mappingRecord([
        { from: ' sd15 ', to: 'v1-5-pruned-emaonly.safetensors' },
        { from: '', to: '' },
      ]),
    ).toEqual({
      sd15: 'v1-5-pruned-emaonly.safetensors',
    });
    expect(mappingRecord([{ from: 'sd15', to: ' ' }])).toBe('Give both the name and the file on the server, or remove the row.');
    expect(
      mappingRecord([
        { from: 'sd15', to: 'a' },
        { from: 'sd15', to: 'b' },
      ]),
    ).toBe('"sd15" is in two rows: keep one.');
    expect(mappingRows({ sd15: 'a.safetensors' })).toEqual([{ from: 'sd15', to: 'a.safetensors' }]);
  });

  it('sends a header only when its value is typed, keeps the stored one otherwise, removes it on Clear', () => {
    expect(headerInput({ name: 'Authorization', value: 'Bearer t', stored: '', clear: false })).toEqual({
      headers: { Authorization: 'Bearer t' },
    });
    // Nothing typed: the stored header (whose value the form never holds) is kept.
    expect(headerInput({ name: 'Authorization', value: '', stored: 'Authorization', clear: false })).toEqual({ headers: undefined });
    expect(headerInput({ name: '', value: '', stored: '', clear: false })).toEqual({ headers: undefined });
    expect(headerInput({ name: '', value: '', stored: 'Authorization', clear: true })).toEqual({ headers: {} });
    expect(headerInput({ name: 'X-Token', value: 'v', stored: 'Authorization', clear: true })).toEqual({ headers: { 'X-Token': 'v' } });
    expect(headerInput({ name: '', value: 'Bearer t', stored: '', clear: false })).toEqual({
      error: 'Give the header a name (e.g. Authorization).',
    });
    expect(headerInput({ name: 'X-Token', value: '', stored: 'Authorization', clear: false })).toEqual({
      error: 'Type the value again for the header X-Token.',
    });
    expect(headerInput({ name: 'Authorization', value: '', stored: '', clear: false })).toEqual({
      error: 'Type the value of the header Authorization, or clear its name.',
    });
  });
});
