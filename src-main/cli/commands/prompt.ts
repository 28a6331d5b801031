/** `onbrand prompt expand|draft`: templates and drafts from the brand skeleton. */
import type { Draft, Expansion } from '../../core/api/index.js';
import type { Command } from '../context.js';
import { plural } from '../format.js';
import { UsageError } from '../usage.js';

/** `--name` as a whole number from min to max, or undefined when not given. */
function whole(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return v;
}

/** A draft and, under it, what the settings linter found in it. */
function describeDraft(d: Draft): string {
  const notes = [
    `${d.words} words`,
    `camera: ${d.cameraVerbs.join(', ') || '—'}`,
    `light: ${d.lightingAdjectives.join(', ') || '—'}`,
    `brand: ${d.brandColours.join(', ') || '—'}`,
    ...(d.problems.length ? [d.problems.join('; ')] : []),
  ];
  return `${d.text}\n   ${notes.join(' · ')}`;
}

export const prompt: Command = {
  name: 'prompt',
  summary: [
    'prompt expand TEMPLATE         expand a prompt template ({a|b}, {subject}, <lora:…>, --ar W:H)',
    "prompt draft PROJECT [--n 5]   draft cinematic prompts from the project's brand skeleton (--llm: the configured model)",
  ],
  help: `Usage: onbrand prompt expand TEMPLATE [--count N] [--seed S]
       onbrand prompt draft PROJECT [--n 5] [--seed S] [--llm]

expand  prints every prompt a template makes (or --count seeded picks with --seed), and how many.
        {a|b|c} alternatives; {subject}, {camera action}, {lighting adjective}, {camera verb},
        {cinematic noun} lists; <lora:name:w> tags are kept; a final --ar W:H sets the size.
draft   "five 25-word prompts, cinematic language, one camera verb, one lighting adjective" from the
        project's palette, mood and subjects, each annotated; offline unless --llm.`,

  async run(ctx, args) {
    const { services, rpc } = ctx.services();
    const { values, json, print } = ctx;
    const [sub, arg] = args;
    if (sub === 'expand') {
      if (!arg || args.length !== 2) throw new UsageError('give one TEMPLATE (quote it)');
      const count = whole('count', values.count, 1, 500);
      const seed = whole('seed', values.seed, 0, 0xffffffff);
      const mode = seed !== undefined ? { mode: 'random', count: count ?? 5, seed } : count ? { count } : {};
      const result = (await rpc.invoke('prompt.expand', { template: arg, ...mode })) as Expansion;
      if (json) print(JSON.stringify(result, null, 2));
      else {
        for (const p of result.prompts) print(p);
        print(`${plural(result.total, 'prompt')} in all${result.aspect ? `, --ar ${result.aspect}` : ''}`);
      }
      return 0;
    }
    if (sub === 'draft') {
      if (!arg || args.length !== 2) throw new UsageError('give one PROJECT');
      const project = services.projects.find(arg);
      const n = whole('n', values.n, 1, 10);
      const seed = whole('seed', values.seed, 0, 0xffffffff);
      const drafts = (await rpc.invoke('prompt.draft', {
        projectId: project.id,
        ...(n ? { n } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(values.llm ? { llm: true } : {}),
      })) as Draft[];
      if (json) print(JSON.stringify(drafts, null, 2));
      else for (const d of drafts) print(describeDraft(d));
      return 0;
    }
    throw new UsageError(`unknown subcommand "${sub ?? ''}" (expand, draft)`);
  },
};
