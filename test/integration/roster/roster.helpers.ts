import type { Agent } from '../../helpers/session';
import { csrfFor } from '../../helpers/session';
import { runQueuedRosterImports } from '../../../src/components/roster';

export const HEADER = 'employee_id,email,name,role,job_title,school_codes,language,start_date';

/** A CSV file from rows of cells (the header first unless given). */
export function csv(rows: (string | readonly string[])[], header = HEADER): string {
  return [header, ...rows.map((r) => (typeof r === 'string' ? r : r.join(',')))].join('\n') + '\n';
}

/** Uploads a roster file through the form, as a browser would (multipart, CSRF token first). */
export async function upload(agent: Agent, content: string | Buffer, options: { fileName?: string; complete?: boolean; csrf?: string | null } = {}) {
  const token = options.csrf === undefined ? await csrfFor(agent, '/admin/roster') : options.csrf;
  let req = agent.post('/admin/roster/preview');
  if (token !== null) req = req.field('_csrf', token);
  if (options.complete) req = req.field('completeRoster', 'yes');
  return req.attach('file', Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'), { filename: options.fileName ?? 'roster.csv', contentType: 'text/csv' });
}

export function previewIdFrom(location: string | undefined): string {
  const match = /\/admin\/roster\/previews\/([0-9a-f]{24})$/.exec(location ?? '');
  if (!match) throw new Error(`not a preview location: ${location}`);
  return match[1];
}

export async function apply(agent: Agent, id: string, fields: Record<string, string> = {}) {
  // The roster page always has a form (a preview's page redirects once it was applied).
  const token = await csrfFor(agent, '/admin/roster');
  return agent.post(`/admin/roster/previews/${id}/apply`).type('form').send({ _csrf: token, ...fields });
}

/** Apply as a browser would, then run the queued import in this process (as a runner would) — the response is Apply's. */
export async function applyAndRun(agent: Agent, id: string, fields: Record<string, string> = {}) {
  const res = await apply(agent, id, fields);
  await runQueuedRosterImports();
  return res;
}

export function importIdFrom(location: string | undefined): string {
  const match = /\/admin\/roster\/imports\/([0-9a-f]{24})(\?refresh=on)?$/.exec(location ?? '');
  if (!match) throw new Error(`not an import location: ${location}`);
  return match[1];
}
