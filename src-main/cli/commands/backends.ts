/** `onbrand backends add|list|rm|test|resume|local`: the ComfyUI servers the queue sends images to, beside the local engine. */
import type { BackendTestResult, BackendView } from '../../core/api/index.js';
import type { Command, CommandContext } from '../context.js';
import { table } from '../format.js';
import { decimal, integer, UsageError } from '../usage.js';

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/** `--header "Name: value"` (repeatable) → a record; `--header ""` alone removes the stored ones. */
function headers(raw: string[] | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const line of raw) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must be "Name: value" (e.g. --header "Authorization: Bearer …"), not "${line}"`);
    out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** `--map-model "onbrand-name=server file"` (repeatable) → a record. */
function mapping(option: string, raw: string[] | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const pair of raw) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1)
      throw new UsageError(`--${option} must be NAME=FILE (e.g. --${option} "sd15=v1-5-pruned-emaonly.safetensors"), not "${pair}"`);
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

function describe(b: BackendView): string[] {
  const state = b.state === 'paused' ? `paused: ${b.reason}` : b.state;
  return [
    b.name,
    b.kind === 'local' ? 'this computer' : b.url!,
    b.kind === 'local' ? '1' : String(b.concurrency),
    b.ratePerHour === null ? 'Time + Cost rate' : `$${b.ratePerHour.toFixed(2)}/h`,
    state,
    b.inventory ? `${b.inventory.checkpoints.length} checkpoints, ${b.inventory.loras.length} LoRAs` : '',
  ];
}

function printTest(print: (text: string) => void, r: BackendTestResult): void {
  print(`${r.name} (${r.url}): ComfyUI ${r.version ?? '(version not given)'}, answered in ${r.ms} ms`);
  for (const d of r.devices) print(`  ${d.name} (${d.type}): ${gib(d.vramFree)} free of ${gib(d.vramTotal)}`);
  print(`  Checkpoints (${r.checkpoints.length}): ${r.checkpoints.join(', ') || 'none'}`);
  print(`  LoRAs (${r.loras.length}): ${r.loras.join(', ') || 'none'}`);
}

async function run(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, json, print } = ctx;
  const [sub, ...rest] = args;
  const { rpc } = ctx.services();
  const out = (value: unknown, text: () => void): void => (json ? print(JSON.stringify(value, null, 2)) : text());
  switch (sub) {
    case 'add':
    case 'set': {
      if (rest.length !== 2) throw new UsageError('give NAME and URL (e.g. onbrand backends add studio-1 https://gpu-1.studio.example)');
      const [name, url] = rest as [string, string];
      const input = {
        name,
        url,
        ...(values.header ? { headers: headers(values.header) } : {}),
        ...(values.concurrency !== undefined ? { concurrency: integer('concurrency', values.concurrency, 1, 1, 8) } : {}),
        ...(values.rate !== undefined ? { ratePerHour: decimal('rate', values.rate, 0, 0, 1000) } : {}),
        ...(values.timeout !== undefined ? { timeoutSeconds: integer('timeout', values.timeout, 120, 5, 3600) } : {}),
        ...(values.insecure ? { allowInsecure: true } : {}),
        ...(values.disable ? { enabled: false } : values.enable ? { enabled: true } : {}),
        ...(values['map-model'] ? { models: mapping('map-model', values['map-model']) } : {}),
        ...(values['map-lora'] ? { loras: mapping('map-lora', values['map-lora']) } : {}),
      };
      const view = (await rpc.invoke('backends.save', input)) as BackendView;
      out(view, () => {
        print(`Saved ${view.name} (${view.url}), ${view.concurrency} image${view.concurrency === 1 ? '' : 's'} at once.`);
        if (view.inventory) print(`  It has ${view.inventory.checkpoints.length} checkpoints and ${view.inventory.loras.length} LoRAs.`);
        else
          print(
            `  It did not answer yet${view.reason ? `: ${view.reason}` : ''}. The queue uses it once it does (check with: onbrand backends test ${view.name}).`,
          );
      });
      return 0;
    }
    case 'list':
    case undefined: {
      const views = (await rpc.invoke('backends.list', {})) as BackendView[];
      out(views, () => print(table(['NAME', 'ADDRESS', 'AT ONCE', 'COST', 'STATE', 'HAS'], views.map(describe))));
      return 0;
    }
    case 'rm':
    case 'remove': {
      if (rest.length !== 1) throw new UsageError('give the NAME of the backend to remove');
      const result = (await rpc.invoke('backends.remove', { name: rest[0] })) as { removed: string };
      out(result, () => print(`Removed ${result.removed}.`));
      return 0;
    }
    case 'test': {
      if (rest.length !== 1) throw new UsageError('give the NAME of the backend to test');
      const result = (await rpc.invoke('backends.test', { name: rest[0] })) as BackendTestResult;
      out(result, () => printTest(print, result));
      return 0;
    }
    case 'resume': {
      if (rest.length !== 1) throw new UsageError('give the NAME of the paused backend');
      const view = (await rpc.invoke('backends.resume', { name: rest[0] })) as BackendView;
      out(view, () => print(`${view.name} takes images again (${view.state}).`));
      return 0;
    }
    case 'local': {
      const [state] = rest;
      if (state !== 'on' && state !== 'off')
        throw new UsageError('give on or off (onbrand backends local off: only the servers make images)');
      const view = (await rpc.invoke('backends.local', { enabled: state === 'on' })) as BackendView;
      out(view, () => print(`The local engine is ${view.enabled ? 'on' : 'off'}.`));
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand "${sub}" (add, list, rm, test, resume, local)`);
  }
}

export const backends: Command = {
  name: 'backends',
  summary: ['backends add|list|rm|test       ComfyUI servers that make images beside this computer'],
  help: `Usage: onbrand backends add NAME URL [--header "Name: value"]… [--concurrency N] [--rate USD_PER_HOUR]
                             [--timeout SECONDS] [--insecure] [--map-model NAME=FILE]… [--map-lora NAME=FILE]…
                             [--disable | --enable]
       onbrand backends list
       onbrand backends test NAME
       onbrand backends rm NAME
       onbrand backends resume NAME
       onbrand backends local on|off

add      adds a ComfyUI server, or changes one (what is not given is kept). The queue sends it images
         of jobs whose model and LoRAs it has (matched by file name; --map-model/--map-lora for renamed files).
         ComfyUI has no login of its own: put it behind an HTTPS reverse proxy and give the proxy's token
         with --header "Authorization: Bearer …" (kept in the secrets file, never shown). Plain http:// to
         another machine is refused unless you add --insecure.
         --concurrency  images sent to it at once (default 1)
         --rate         money per GPU hour there, for Time + Cost (default 0)
         --timeout      an image with no word from it for this long is made elsewhere (default 120 s)
list     the local engine and the servers: address, images at once, cost, state, what each has
test     asks a server its version, GPUs and free VRAM, checkpoints and LoRAs
rm       removes a server (and its stored headers)
resume   a server paused after repeated failures takes images again
local    switches this computer's engine on or off (off: only the servers make images)`,
  run,
};
