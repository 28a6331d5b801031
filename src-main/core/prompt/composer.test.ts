import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Draft, Expansion } from '../api/index.js';
import { DEFAULT_PALETTE } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc, type Rpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { annotate, draftOffline, draftWithLlm } from './drafts.js';
import { builtInLists, DEFAULT_SUBJECTS } from './vocabulary.js';
import { countTemplate, expandAll, expandRandom, parseTemplate } from './template.js';

const WORKFLOW_TEMPLATE =
  '<lora:FluxPortraitTrainer:1>, {subject}, {camera action}, rich {lighting adjective} light, brand colours weaving through scene, shallow depth, 35 mm DSLR, f/2.2 --ar 9:16';
const lists = builtInLists(DEFAULT_SUBJECTS);

describe('templates', () => {
  it('expands the workflow template combinatorially, in order, with --ar and LoRA tags kept', () => {
    const parsed = parseTemplate(WORKFLOW_TEMPLATE, lists);
    expect(parsed.aspect).toBe('9:16');
    expect(countTemplate(parsed, lists)).toBe(3 * 6 * 15);
    const all = expandAll(parsed, lists, 3);
    expect(all[0]).toBe(
      '<lora:FluxPortraitTrainer:1>, portrait, slow dolly in, rich neon light, brand colours weaving through scene, shallow depth, 35 mm DSLR, f/2.2',
    );
    expect(all[1]).toContain('rich golden light');
  });

  it('alternatives multiply; seeded random picks repeat with the same seed', () => {
    const parsed = parseTemplate('{teal|magenta} {wall|sky|glass}, {portrait|device close-up}', lists);
    expect(countTemplate(parsed, lists)).toBe(12);
    expect(expandAll(parsed, lists)).toHaveLength(12);
    expect(expandRandom(parsed, lists, 5, 42)).toEqual(expandRandom(parsed, lists, 5, 42));
    expect(expandRandom(parsed, lists, 5, 42)).not.toEqual(expandRandom(parsed, lists, 5, 43));
  });

  it('names the position of each error', () => {
    const error = (t: string): string => {
      try {
        parseTemplate(t, lists);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(error('a {teal|magenta')).toBe('Template, character 3: "{" is never closed');
    expect(error('a teal} b')).toBe('Template, character 7: "}" has no matching "{"');
    expect(error('{mood} shot')).toMatch(/^Template, character 1: no list named "mood" \(lists: subject, camera action/);
    expect(error('x {a||b}')).toBe('Template, character 3: "{a||b}" has an empty alternative');
    expect(error('x --ar tall')).toBe('Template, character 3: --ar must be W:H with both sides from 1 to 99 (like 9:16), not "tall"');
    expect(error('x --ar 9:16 and more')).toBe('Template, character 3: --ar must come last, as --ar W:H');
  });

  it('refuses an --ar the queue would refuse, offering the nearest that it takes (the preview showed them, the queue failed)', () => {
    const error = (t: string): string => {
      try {
        parseTemplate(t, lists);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(error('{teal|magenta} glow --ar 9:0')).toBe(
      'Template, character 21: --ar must be W:H with both sides from 1 to 99 (like 9:16), not "9:0"',
    );
    expect(error('{teal|magenta} glow --ar 1:99')).toBe(
      'Template, character 21: --ar 1:99 makes 64×5120 px; the height must be at most 2048 px — use --ar 1:16?',
    );
    expect(error('teal glow --ar 16x9')).toMatch(/not "16x9" — use --ar 16:9\?$/);
    expect(parseTemplate('teal glow --ar 1:16', lists).aspect).toBe('1:16');
  });
});

describe('drafts', () => {
  const skeleton = {
    projectId: 1,
    mood: 'hopeful / rebellious finance',
    subjects: [...DEFAULT_SUBJECTS],
    aspect: '9:16',
    palette: [...DEFAULT_PALETTE],
  };

  it('offline drafts meet the brief: about 25 words, one camera verb, one lighting adjective, brand colours; same seed, same drafts', () => {
    const drafts = draftOffline(skeleton, 5, 7);
    expect(drafts).toHaveLength(5);
    expect(draftOffline(skeleton, 5, 7)).toEqual(drafts);
    expect(draftOffline(skeleton, 5, 8)).not.toEqual(drafts);
    for (const d of Array.from({ length: 40 }, (_, seed) => draftOffline(skeleton, 5, seed + 1)).flat()) {
      const a = annotate(d, skeleton.palette);
      expect(a.problems, d).toEqual([]);
      expect(a.cameraVerbs).toHaveLength(1);
      expect(a.lightingAdjectives).toHaveLength(1);
    }
  });

  it('annotates what misses the brief', () => {
    const a = annotate('A portrait with neon and golden light', skeleton.palette);
    expect(a.problems).toEqual([
      '7 words (aim for about 25)',
      'no camera verb',
      '2 lighting adjectives (neon, golden); keep one',
      'no brand colour named',
    ]);
  });
});

describe('an OpenAI-compatible endpoint', () => {
  let server: http.Server;
  let base: string;
  let mode: 'ok' | 'malformed' | 'slow' | 'unauthorized' = 'ok';
  let lastAuth: string | undefined;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      lastAuth = req.headers.authorization;
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (mode === 'unauthorized') return void res.writeHead(401).end('{"error":"bad key"}');
        if (mode === 'slow') return void setTimeout(() => res.end('{}'), 1500);
        if (mode === 'malformed') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[]}');
        const asked = (JSON.parse(body) as { messages: { content: string }[] }).messages[1]!.content;
        const content = asked.includes('Give me 2')
          ? '1. Camera dollies toward a teal portrait, neon light on magenta glass, shallow depth, 35 mm\n2. "A device close-up, the camera pans across yellow chrome, golden haze"'
          : 'x';
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const skeleton = { projectId: 1, mood: 'hopeful', subjects: ['portrait'], aspect: '9:16', palette: [...DEFAULT_PALETTE] };

  it('drafts from a normal answer, sending the key', async () => {
    mode = 'ok';
    const drafts = await draftWithLlm({ baseUrl: base, model: 'local', apiKey: 'sk-test' }, skeleton, 2);
    expect(drafts).toEqual([
      'Camera dollies toward a teal portrait, neon light on magenta glass, shallow depth, 35 mm',
      'A device close-up, the camera pans across yellow chrome, golden haze',
    ]);
    expect(lastAuth).toBe('Bearer sk-test');
  });

  it('a malformed answer, a timeout and a 401 are clear errors', async () => {
    mode = 'malformed';
    await expect(draftWithLlm({ baseUrl: base, model: 'm', apiKey: null }, skeleton, 2)).rejects.toThrow(
      /answered something that is not a chat completion/,
    );
    mode = 'slow';
    await expect(draftWithLlm({ baseUrl: base, model: 'm', apiKey: null, timeoutMs: 300 }, skeleton, 2)).rejects.toThrow(
      /did not answer within 0 s|did not answer/,
    );
    mode = 'unauthorized';
    await expect(draftWithLlm({ baseUrl: base, model: 'm', apiKey: 'wrong' }, skeleton, 2)).rejects.toThrow(
      /refused the API key \(HTTP 401\)/,
    );
  });
});

describe('the composer through the API', () => {
  let services: Services;
  let rpc: Rpc;
  let projectId: number;
  beforeEach(() => {
    services = createServices(resolveConfig({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-composer-')) }));
    rpc = createRpc(services, 'cli');
    projectId = services.projects.create({ name: 'Finance' }).id;
  });
  afterEach(async () => services.close());

  it('keeps the skeleton, drafts with history and stars, and reports template errors by field', async () => {
    const skeleton = await rpc.invoke('prompt.saveSkeleton', {
      projectId,
      mood: 'hopeful / rebellious finance',
      subjects: ['portrait', 'abstract shape'],
      aspect: '9:16',
    });
    expect(skeleton).toMatchObject({ mood: 'hopeful / rebellious finance', subjects: ['portrait', 'abstract shape'] });
    const drafts = (await rpc.invoke('prompt.draft', { projectId, n: 5, seed: 3 })) as Draft[];
    expect(drafts).toHaveLength(5);
    await rpc.invoke('prompt.star', { draftId: drafts[1]!.id, starred: true });
    const history = (await rpc.invoke('prompt.drafts', { projectId })) as Draft[];
    expect(history.filter((d) => d.starred).map((d) => d.id)).toEqual([drafts[1]!.id]);
    const expansion = (await rpc.invoke('prompt.expand', { template: '{subject}, {teal|magenta} light --ar 1:1', projectId })) as Expansion;
    expect([expansion.total, expansion.aspect, expansion.prompts[0]]).toEqual([4, '1:1', 'portrait, teal light']);
    await expect(rpc.invoke('prompt.expand', { template: '{subject' })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'template',
      message: 'Template, character 1: "{" is never closed',
    });
    await expect(rpc.invoke('prompt.draft', { projectId, llm: true })).rejects.toThrow(/Set a language model endpoint/);
  });
});
