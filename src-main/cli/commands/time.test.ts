import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimeSnapshot } from '../../core/api/index.js';
import { resolveConfig } from '../../core/config.js';
import { createServices } from '../../core/services.js';
import { cliTestFolder } from '../capture.js';

const cli = cliTestFolder('onbrand-cli-time-');
beforeEach(cli.setUp);
afterEach(cli.tearDown);
const onbrand = cli.onbrand;
const T0 = Date.parse('2026-11-30T09:00:00Z');

/** GPU work recorded through the core, as the queue records it. */
async function record(work: (log: ReturnType<typeof createServices>['timelog'], projectId: number) => void): Promise<void> {
  const services = createServices(resolveConfig({ dataDir: cli.dataDir }));
  try {
    work(services.timelog, services.projects.find('Drop').id);
  } finally {
    await services.close();
  }
}

describe('onbrand time', () => {
  it('prints the phases; GPU by backend only once a ComfyUI server did some of the work', async () => {
    expect((await onbrand('projects', 'create', 'Drop')).code).toBe(0);
    await record((log, id) => {
      log.setGpuCostPerHour(0.4);
      log.jobFinished(id, 1800, T0);
    });
    const local = await onbrand('time', 'Drop');
    expect(local.code).toBe(0);
    expect(local.out).toMatch(/^Phase +Minutes +GPU +Cost\n/);
    expect(local.out).toMatch(/\nBatch generation +0\.5 +1800 s +\$0\.2000\n/);
    expect(local.out).toMatch(/\nTotal +0\.5 +1800 s +\$0\.2000\n/);
    expect(local.out).not.toContain('GPU: ');

    await record((log, id) => {
      log.backendWork(id, 'cloud-a100', 3600, 2.5, T0 + 60_000);
      log.backendWork(id, 'studio-box', 600, 0, T0 + 120_000);
    });
    const split = await onbrand('time', 'drop');
    expect(split.code).toBe(0);
    expect(split.out).toMatch(/\nTotal +[\d.]+ +6000 s +\$2\.7000\n/);
    expect(split.out.trim().split('\n').slice(-4)).toEqual([
      'Backend          GPU     Rate     Cost',
      'GPU: local       1800 s  $0.40/h  $0.2000',
      'GPU: cloud-a100  3600 s  $2.50/h  $2.5000',
      'GPU: studio-box  600 s   $0.00/h  —',
    ]);
    const json = JSON.parse((await onbrand('--json', 'time', 'Drop')).out) as TimeSnapshot;
    expect(json.backends.map((b) => [b.name, b.gpuSeconds, b.ratePerHour, b.cost])).toEqual([
      ['local', 1800, 0.4, 0.2],
      ['cloud-a100', 3600, 2.5, 2.5],
      ['studio-box', 600, 0, 0],
    ]);
    expect((await onbrand('time')).err).toMatch(/give exactly one PROJECT/);
  });
});
