import request from 'supertest';
import type { Express } from 'express';
import { localDateOf } from '../../../src/components/assignments';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { createAssignment } from '../assignments/compliance-fixtures';

export const SLUG = 'fixture-basics';
export const TZ = 'America/Los_Angeles';
export const today = () => localDateOf(new Date(), TZ);

/** A district with its contacts filled in (placeholders), two schools, their principals, an admin and staff. */
export async function createWorld(app: Express) {
  const district = await createDistrict({
    timeZone: TZ,
    settings: { policyReference: 'Board Policy 5145', contacts: { principal: { name: 'Ms. Rivera', nameEs: 'la Sra. Rivera', phone: '555-0100' } } },
  });
  const school = await createSchool(district, { name: 'Lincoln Elementary' });
  const otherSchool = await createSchool(district, { name: 'Other Middle' });
  const principal = await createUser(district, { role: 'principal', schools: [school], name: 'Pat Principal' });
  const otherPrincipal = await createUser(district, { role: 'principal', schools: [otherSchool] });
  const admin = await createUser(district, { role: 'district_admin' });
  const custodian = await createUser(district, { schools: [school], jobTitle: 'custodian', name: 'Carla Custodian' });
  const driver = await createUser(district, { schools: [school], jobTitle: 'bus_driver', name: 'Dario Driver' });
  const cook = await createUser(district, { schools: [school], jobTitle: 'food_service', name: 'Fatima Food' });
  const inactive = await createUser(district, { schools: [school], jobTitle: 'custodian', name: 'Ines Inactive', active: false });
  const elsewhere = await createUser(district, { schools: [otherSchool], jobTitle: 'custodian', name: 'Elena Elsewhere' });
  const otherDistrict = await createDistrict();
  const foreigner = await createUser(otherDistrict, { schools: [await createSchool(otherDistrict)], jobTitle: 'custodian' });
  const assignment = await createAssignment(district, { moduleSlug: SLUG });
  return { district, school, otherSchool, principal, otherPrincipal, admin, custodian, driver, cook, inactive, elsewhere, foreigner, assignment, agent: await signIn(app, principal.email) };
}

export type World = Awaited<ReturnType<typeof createWorld>>;

export const schoolPath = (w: { school: { _id: unknown } }) => `/school/${String(w.school._id)}/sessions`;

/** Starts a session through the form; returns its id. */
export async function startSession(agent: Agent, schoolId: string, body: Record<string, string> = {}): Promise<string> {
  const csrf = await csrfFor(agent, `/school/${schoolId}/sessions/new`);
  const res = await agent.post(`/school/${schoolId}/sessions`).type('form').send({ _csrf: csrf, module: SLUG, sessionDate: today(), ...body });
  if (res.status !== 303) throw new Error(`start failed: ${res.status} ${res.text.slice(0, 300)}`);
  return /\/sessions\/([0-9a-f]{24})$/.exec(res.headers.location)![1];
}

/** A form body as a browser encodes it: repeated keys for the checked boxes and the hidden fields. */
export function formBody(fields: Record<string, string | readonly string[]>): string {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) for (const v of typeof value === 'string' ? [value] : value) body.append(key, v);
  return body.toString();
}

/** Posts attendance the way the checklist form does: the people shown, the ones checked. */
export async function postAttendance(agent: Agent, path: string, attendees: readonly string[], shown: readonly string[] = attendees, extra: Record<string, string> = {}) {
  const csrf = await csrfFor(agent, `${path}/attendance`);
  return agent.post(`${path}/attendance`).type('form').send(formBody({ _csrf: csrf, attendees, shown, ...extra }));
}

export async function postFinish(agent: Agent, path: string, csrf?: string) {
  return agent.post(`${path}/finish`).type('form').send({ _csrf: csrf ?? (await csrfFor(agent, `${path}/finish`)), confirm: 'yes' });
}

export function binary(req: request.Test): request.Test {
  return req.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
}
