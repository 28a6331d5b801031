/** Export: 6 images at 1080×1920 (no upscale), and 1 hero at 2160 px wide with ESRGAN ×4 (slim). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { it } from 'vitest';
import type { ExportReport, Section } from '../src-main/core/api/index.js';
import { resolveConfig } from '../src-main/core/config.js';
import { createRpc } from '../src-main/core/rpc.js';
import { createServices } from '../src-main/core/services.js';
import { measure, report } from './support.js';

it('export: six 1080×1920 JPEGs and one 2160 px hero', async () => {
  await measure('export', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-bench-export-'));
    const services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), modelsDir: path.join(root, 'models') }), {
      provider: 'cpu',
    });
    const rpc = createRpc(services, 'cli');
    try {
      const project = services.projects.create({ name: 'Bench' });
      const shots = path.join(root, 'shots');
      fs.mkdirSync(shots);
      for (let i = 0; i < 6; i++) {
        const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1080" height="1920"><defs><linearGradient id="g"><stop offset="0" stop-color="hsl(${i * 50},80%,50%)"/><stop offset="1" stop-color="#00E0FF"/></linearGradient><filter id="n"><feTurbulence baseFrequency="0.8" seed="${i}"/><feColorMatrix type="saturate" values="0"/><feComponentTransfer><feFuncA type="linear" slope="0.3"/></feComponentTransfer></filter></defs><rect width="100%" height="100%" fill="url(#g)"/><circle cx="540" cy="700" r="360" fill="#FE2C54"/><rect width="100%" height="100%" filter="url(#n)"/></svg>`;
        await sharp(Buffer.from(svg))
          .png()
          .toFile(path.join(shots, `gen_${i}.png`));
      }
      const images = (await services.importer.import(project.id, [shots])).imported;
      await rpc.invoke('images.mark', { projectId: project.id, changes: images.map((i) => ({ imageId: i.id, flag: 'pick' })) });
      let started = performance.now();
      const six = (await rpc.invoke('export.run', { projectId: project.id, target: 'sora', selection: { kind: 'picks' } })) as ExportReport;
      const sixSeconds = (performance.now() - started) / 1000;
      const sizes = six.files.map((f) => Math.round(f.bytes / 1024));
      report(
        `export: 6 × 1080×1920 JPEG 90 (no upscale, attention crop, metadata) on ${os.cpus().length} cores: ${sixSeconds.toFixed(2)} s; sizes ${sizes.join(', ')} KB`,
      );

      // A hero slot 2160 px wide from a 540×960 source: ESRGAN ×4 (slim) then the resize.
      const small = path.join(root, 'hero.png');
      await sharp(path.join(shots, 'gen_0.png')).resize(540, 960).png().toFile(small);
      const [hero] = (await services.importer.import(project.id, [small])).imported;
      const section = (await rpc.invoke('sections.save', {
        projectId: project.id,
        name: 'hero',
        backgroundHex: '#FE2C54',
        slotWidth: 2160,
        slotHeight: 3840,
      })) as Section;
      await rpc.invoke('sections.pair', { sectionId: section.id, imageId: hero!.id });
      await services.exporter.targets(project.id);
      started = performance.now();
      const framer = (await rpc.invoke('export.run', {
        projectId: project.id,
        target: 'framer',
        selection: { kind: 'picks' },
      })) as ExportReport;
      const heroFile = framer.files[0]!;
      report(
        `export: 1 hero 2160×3840 from 540×960 with ESRGAN ×4 (esrgan-slim, CPU, incl. first-use conversion): ${((performance.now() - started) / 1000).toFixed(1)} s, ${Math.round(heroFile.bytes / 1024)} KB, upscaled ${heroFile.upscaled}`,
      );
    } finally {
      await services.close();
    }
  });
});
