/** `onbrand rate` and `onbrand flag`: one image's rating or flag, as the keyboard sets them in the app. */
import type { ImageSummary } from '../../core/api/index.js';
import type { Command } from '../context.js';
import { UsageError } from '../usage.js';

/** rate and flag differ only in the value they take and how they check it. */
function markCommand(name: 'rate' | 'flag', valueName: string, summary: string[]): Command {
  return {
    name,
    summary,
    help: `Usage: onbrand ${name} PROJECT IMAGE_ID ${valueName}`,
    async run(ctx, args) {
      const { services, rpc } = ctx.services();
      if (args.length !== 3 || !/^\d+$/.test(args[1]!)) throw new UsageError(`give PROJECT IMAGE_ID ${valueName}`);
      const project = services.projects.find(args[0]!);
      const value = args[2]!;
      if (name === 'rate' && !/^[0-5]$/.test(value)) throw new UsageError(`STARS must be 0 to 5, not "${value}"`);
      if (name === 'flag' && !['pick', 'reject', 'none'].includes(value)) {
        throw new UsageError(`the flag must be pick, reject or none, not "${value}"`);
      }
      const imageId = Number(args[1]);
      const change = name === 'rate' ? { imageId, rating: Number(value) } : { imageId, flag: value };
      const [image] = (await rpc.invoke('images.mark', { projectId: project.id, changes: [change] })) as ImageSummary[];
      const flag = image!.flag !== 'none' ? ` (${image!.flag})` : '';
      ctx.print(ctx.json ? JSON.stringify(image, null, 2) : `${image!.fileName}: ${'★'.repeat(image!.rating)}${flag}`);
      return 0;
    },
  };
}

// The top-level help shows both on rate's line.
export const rate = markCommand('rate', 'STARS', [
  'rate PROJECT IMAGE_ID STARS    set a rating (0–5); flag PROJECT IMAGE_ID pick|reject|none sets a flag',
]);
export const flag = markCommand('flag', 'pick|reject|none', []);
