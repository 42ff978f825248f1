/**
 * `npm run tallies:rebuild [-- --district <slug>]`: recounts the decision tallies of every district (or one)
 * and every published module version from the attempts (docs/compliance.md, "Decision insights"). Run it after
 * attempts were written or deleted outside the player. Safe while the app serves learners on the same MongoDB;
 * the embedded database (no MONGODB_URI) is opened from DATA_DIR, so stop `npm start` first, as for the seeds.
 */
import path from 'node:path';
import mongoose from 'mongoose';
import { loadConfig } from '../../config';
import { connectDatabase } from '../../shared/db';
import { configureLogger } from '../../shared/logger';
import { District } from '../districts';
import { catchUpDecisionTallies } from './decision-tallies.catch-up';

async function main(): Promise<void> {
  const config = loadConfig();
  configureLogger('warn');
  const i = process.argv.indexOf('--district');
  const slug = i >= 0 ? process.argv[i + 1] : undefined;
  if (i >= 0 && !slug) throw new Error('--district needs the district slug');
  const db = await connectDatabase({ mongodbUri: config.mongodbUri, embeddedDataDir: path.join(config.dataDir, 'db') });
  try {
    await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
    let district;
    if (slug) {
      district = await District.findOne({ slug: String(slug).toLowerCase() }, { _id: 1 }).lean();
      if (!district) throw new Error(`no district with slug ${slug}`);
    }
    const started = Date.now();
    const result = await catchUpDecisionTallies({ force: true, district: district?._id });
    process.stdout.write(`Decision tallies rebuilt: ${result.built} district module version(s), ${result.attempts} finished attempts, in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
