import { AuditEvent } from '../../../src/components/audit';
import { User } from '../../../src/components/users';
import { DEACTIVATION_LIMIT_MIN } from '../../../src/components/scim/scim-deactivations';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createUser } from '../../helpers/factories';
import { csrfFor, signIn } from '../../helpers/session';
import { PATCH_OP, scimClient, scimDistrict } from './scim.helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('the safety limit on deactivations through provisioning', () => {
  test('when a mis-scoped sync disables more people than the limit in a day, then the rest are refused (429) and stay active until an admin allows more', async () => {
    const { district, lincoln, admin, token } = await scimDistrict(t.app);
    // 40 active people: the limit is the minimum (2 % of 41 is under it).
    const people = [];
    for (let i = 0; i < 40; i++) people.push(await createUser(district, { schools: [lincoln], email: `p${i}@limit.example` }));
    const scim = scimClient(t.app, token);

    const statuses: number[] = [];
    for (const [i, person] of people.slice(0, DEACTIVATION_LIMIT_MIN).entries()) {
      // Entra disables with PATCH active "False"; Okta and others with DELETE. Both count.
      const res = i % 2 === 0 ? await scim.delete(`/Users/${person._id}`) : await scim.patch(`/Users/${person._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 204 || s === 200)).toHaveLength(DEACTIVATION_LIMIT_MIN);

    const refused = await scim.delete(`/Users/${people[DEACTIVATION_LIMIT_MIN]._id}`);
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain('Deactivation limit reached');
    const refusedPatch = await scim.patch(`/Users/${people[DEACTIVATION_LIMIT_MIN + 1]._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(refusedPatch.status).toBe(429);
    expect(await User.countDocuments({ district: district._id, active: false })).toBe(DEACTIVATION_LIMIT_MIN);
    expect((await User.findById(people[DEACTIVATION_LIMIT_MIN]._id).lean())!.active).toBe(true);
    // Other changes still go through.
    const rename = await scim.patch(`/Users/${people[30]._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'displayName', value: 'Still Here' }] });
    expect(rename.status).toBe(200);

    // The audit log names who acted: provisioning, not "System".
    const log = await admin.get('/admin/audit?action=scim.user_deactivated');
    expect(log.text).toContain('Automatic provisioning (SCIM)');
    expect(log.text).not.toMatch(/<td>System<\/td>/);

    // The admin page says so and offers to allow more.
    const page = await admin.get('/admin/scim');
    expect(page.text).toContain('2 deactivations were refused');
    expect(page.text).toContain(`Deactivated by provisioning in the last 24 hours: ${DEACTIVATION_LIMIT_MIN} of ${DEACTIVATION_LIMIT_MIN}`);
    const allow = await admin.post('/admin/scim/deactivations').type('form').send({ _csrf: await csrfFor(admin, '/admin/scim') });
    expect(allow.status).toBe(303);
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'scim.deactivations_allowed' })).toBe(1);
    const after = await admin.get('/admin/scim');
    expect(after.text).not.toContain('were refused');
    expect(after.text).toContain(`raised the limit to ${2 * DEACTIVATION_LIMIT_MIN}`);

    // Entra's retry now goes through.
    expect((await scim.delete(`/Users/${people[DEACTIVATION_LIMIT_MIN]._id}`)).status).toBe(204);
    expect((await User.findById(people[DEACTIVATION_LIMIT_MIN]._id).lean())!.active).toBe(false);
  });

  test('when a principal or staff member posts the allowance, then 403 and nothing is allowed', async () => {
    const { district, lincoln } = await scimDistrict(t.app);
    const principal = await createUser(district, { role: 'principal', schools: [lincoln] });
    const agent = await signIn(t.app, principal.email);
    const res = await agent.post('/admin/scim/deactivations').type('form').send({ _csrf: await csrfFor(agent) });
    expect(res.status).toBe(403);
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'scim.deactivations_allowed' })).toBe(0);
  });
});
