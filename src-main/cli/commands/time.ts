/** `onbrand time PROJECT`: the project's Time + Cost snapshot, with the GPU by backend when not all on this computer. */
import type { TimeSnapshot } from '../../core/api/index.js';
import { splitsByBackend } from '../../core/timelog/index.js';
import type { Command } from '../context.js';
import { table } from '../format.js';
import { UsageError } from '../usage.js';

export const time: Command = {
  name: 'time',
  summary: ['time PROJECT                   the Time + Cost snapshot: minutes and GPU cost per phase and per backend'],
  help: `Usage: onbrand time PROJECT [--json]

The project's Time + Cost snapshot, as the app's view shows it: minutes per phase (set by hand where
corrected), GPU seconds and their cost, the total and the real time. When some GPU time was spent on
ComfyUI servers, the GPU time, rate and cost of each backend follow ("GPU: local" is this computer,
at the rate per GPU hour in settings; each server at its own rate as it was when the work was done).`,

  async run(ctx, args) {
    const { services, rpc } = ctx.services();
    const { json, print } = ctx;
    if (args.length !== 1) throw new UsageError('give exactly one PROJECT');
    const project = services.projects.find(args[0]!);
    const snap = (await rpc.invoke('timelog.get', { projectId: project.id })) as TimeSnapshot;
    if (json) {
      print(JSON.stringify(snap, null, 2));
      return 0;
    }
    const gpu = (seconds: number): string => `${seconds} s`;
    print(
      table(
        ['Phase', 'Minutes', 'GPU', 'Cost'],
        [
          ...snap.phases.map((p) => [
            p.detail ? `${p.label} (${p.detail})` : p.label,
            `${p.minutes}${p.corrected ? ' (set)' : ''}`,
            gpu(p.gpuSeconds),
            money(p.cost),
          ]),
          [
            'Total',
            String(snap.totalMinutes),
            gpu(Math.round(snap.phases.reduce((s, p) => s + p.gpuSeconds, 0) * 10) / 10),
            money(snap.totalCost),
          ],
        ],
      ),
    );
    print(`Real time: ${snap.elapsedMinutes} min (${snap.recordedMinutes} min of it recorded in the phases)`);
    if (splitsByBackend(snap.backends)) {
      print('');
      print(
        table(
          ['Backend', 'GPU', 'Rate', 'Cost'],
          snap.backends.map((b) => [`GPU: ${b.name}`, gpu(b.gpuSeconds), `$${b.ratePerHour.toFixed(2)}/h`, money(b.cost)]),
        ),
      );
    }
    return 0;
  },
};

/** Dollars with four decimals (GPU seconds cost fractions of a cent); "—" for none. */
const money = (cost: number): string => (cost === 0 ? '—' : `$${cost.toFixed(4)}`);
