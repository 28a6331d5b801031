#!/usr/bin/env node
/**
 * `npm run serve`: the browser host. Serves the Onbrand UI and API on 127.0.0.1 and prints the
 * URL with this run's token.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseProviderChoice } from '../core/common/index.js';
import { resolveConfig } from '../core/config.js';
import { describeHolder } from '../core/jobs/index.js';
import { createServices } from '../core/services.js';
import { appPackage } from '../core/util/index.js';
import { startHost } from './server.js';

const HELP = `Usage: npm run serve -- [options]

Starts the Onbrand browser host: the whole app in a browser, on this machine.

Options:
  --port N            port to listen on (default 5317; 0 picks a free one)
  --host ADDR         interface to bind (default 127.0.0.1; anything else exposes the app to the network)
  --data-dir DIR      catalogue and thumbnail cache (default: the platform's app-data folder)
  --projects-dir DIR  where new project folders go (default ~/Onbrand, or DATA-DIR/projects)
  --models-dir DIR    Stable Diffusion models (default native-models/; env ONBRAND_MODELS_DIR)
  --provider NAME     execution provider for generation: auto (default), cpu, cuda, dml, coreml
  --token TOKEN       use this token instead of a random one
  -h, --help          show this help`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '5317' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      'projects-dir': { type: 'string' },
      'models-dir': { type: 'string' },
      provider: { type: 'string', default: 'auto' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.token !== undefined && !/^[\w-]{32,256}$/.test(values.token)) {
    throw new Error(
      '--token must be at least 32 characters of letters, digits, _ and - (it is all that stands between this port and the catalogue); leave it out for a random one',
    );
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a number from 0 to 65535, not "${values.port}"`);

  const config = resolveConfig({
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values['projects-dir'] ? { projectsDir: values['projects-dir'] } : {}),
    ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}),
  });
  const parsed = parseProviderChoice(String(values.provider));
  if ('error' in parsed) throw new Error(parsed.error);
  const provider = parsed.choice;
  const services = createServices(config, { provider });
  const recovered = services.queue.start('serve');
  if (recovered.owner)
    console.log(`The queue is run by ${describeHolder(recovered.owner)}; this host shows it and takes it over when that stops.`);
  // Downloads that were running when Onbrand last stopped go on from where they stopped: in the
  // process that owns the queue (now, or when the one that owns it stops), never in two at once.
  void services.queue.whenOwner().then(() => services?.models.resumePending());
  for (const bad of recovered.unreadable) console.warn(`Job ${bad.id} cannot be read (${bad.reason}); kept as failed, with its prompt.`);
  if (recovered.resumed.length)
    console.log(`Resuming interrupted job${recovered.resumed.length === 1 ? '' : 's'} ${recovered.resumed.join(', ')}.`);
  const host = await startHost({
    services,
    host: values.host,
    port,
    ...(values.token ? { token: values.token } : {}),
    rendererDir: path.join(appPackage().root, 'dist', 'renderer'),
  });
  if (values.host !== '127.0.0.1' && values.host !== 'localhost' && values.host !== '::1') {
    console.warn(`Warning: listening on ${values.host}; anyone who can reach it and has the token can use this Onbrand.`);
  }
  console.log(`Onbrand browser host: ${host.urlWithToken}`);
  console.log(`Data: ${config.dataDir}   Projects: ${config.projectsDir}`);

  const stop = (): void => {
    // Downloads pause at once (they resume at the next start); the server then lets requests in flight finish.
    void services.models
      .close()
      .then(() => host.close())
      .then(() => services.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`onbrand serve: ${(error as Error).message}`);
  process.exit(1);
});
