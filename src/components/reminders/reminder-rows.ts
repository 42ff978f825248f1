/** Reads of compliance rows for reminders: one indexed scan per district or school, never one query per person. */
import { Types } from 'mongoose';
import { findSchoolRows, statusAt, type ComplianceRowDoc } from '../assignments';

export type OverduePerson = { userId: string; name: string; trainings: number };

/** The overdue or expired people of each listed school (rows of each school: index { schools, name }). */
export async function findOverdueBySchool(districtId: string, schoolIds: string[], now: Date): Promise<Map<string, OverduePerson[]>> {
  const result = new Map<string, OverduePerson[]>();
  for (const schoolId of schoolIds) {
    const rows: ComplianceRowDoc[] = await findSchoolRows(districtId, schoolId, {});
    const byPerson = new Map<string, OverduePerson>();
    for (const row of rows) {
      const status = statusAt(row, now);
      if (status !== 'overdue' && status !== 'expired') continue;
      const id = String(row.user);
      const person = byPerson.get(id) ?? { userId: id, name: row.name, trainings: 0 };
      person.trainings += 1;
      byPerson.set(id, person);
    }
    result.set(schoolId, [...byPerson.values()].sort((a, b) => a.name.localeCompare(b.name)));
  }
  return result;
}

export function toObjectIds(ids: Iterable<string>): Types.ObjectId[] {
  return [...ids].map((id) => new Types.ObjectId(id));
}
