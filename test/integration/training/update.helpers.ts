/** Fixture versions of fixture-basics with update paths (content `updates:`), loaded from a temporary copy. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareTrainingContent } from '../../../src/components/training';
import { FIXTURE_MODULES } from './player.helpers';

export const V2_NOTE = { en: 'The phone call scenario now says to log every request.', es: 'El escenario de la llamada ahora indica registrar cada solicitud.' };
export const V3_NOTE = { en: 'The front desk scenario was revised.', es: 'Se revisó el escenario de la recepción.' };

function replaceOnce(text: string, from: string, to: string): string {
  if (text.split(from).length !== 2) throw new Error(`fixture text not found exactly once: ${from}`);
  return text.replace(from, to);
}

/**
 * fixture-basics v2: same scenarios, one changelog line, and an update path from v1 that plays only the
 * phone call scenario (`by-phone`). With `withV3`, also v3 whose only update path is from v2 (the front
 * desk scenario): someone holding v1 must take the whole of v3.
 */
export async function prepareUpdateModules(options: { withV3?: boolean } = {}): Promise<() => Promise<void>> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'sst-update-path-'));
  const dir = path.join(workDir, 'modules');
  await cp(FIXTURE_MODULES, dir, { recursive: true });
  const v1 = await readFile(path.join(dir, 'fixture-basics', 'v1.yaml'), 'utf8');
  const firstNote = 'note: { en: "First version.", es: "Primera versión." } }\n';
  const v2 = replaceOnce(
    replaceOnce(replaceOnce(v1, 'version: 1\n', 'version: 2\n'), firstNote, `${firstNote}  - { version: 2, date: 2026-05-01, note: { en: "Phone call revised.", es: "Llamada revisada." } }\n`),
    'sources:\n',
    `updates:\n  - from: 1\n    scenarios: [by-phone]\n    note: { en: "${V2_NOTE.en}", es: "${V2_NOTE.es}" }\nsources:\n`,
  );
  await writeFile(path.join(dir, 'fixture-basics', 'v2.yaml'), v2);
  if (options.withV3) {
    const v3 = replaceOnce(
      replaceOnce(
        replaceOnce(v2, 'version: 2\n', 'version: 3\n'),
        'Llamada revisada." } }\n',
        'Llamada revisada." } }\n  - { version: 3, date: 2026-08-01, note: { en: "Front desk revised.", es: "Recepción revisada." } }\n',
      ),
      `  - from: 1\n    scenarios: [by-phone]\n    note: { en: "${V2_NOTE.en}", es: "${V2_NOTE.es}" }\n`,
      `  - from: 2\n    scenarios: [front-desk]\n    note: { en: "${V3_NOTE.en}", es: "${V3_NOTE.es}" }\n`,
    );
    await writeFile(path.join(dir, 'fixture-basics', 'v3.yaml'), v3);
  }
  await prepareTrainingContent(dir);
  return () => rm(workDir, { recursive: true, force: true });
}
