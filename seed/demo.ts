/**
 * The demo district: fictional people, schools and contacts for trying the product. Idempotent: every
 * record is upserted by its natural key (district slug, school code, user email), so running it again
 * changes nothing and keeps passwords that were changed since. Nothing in src/ or test/ depends on it.
 */
import { Types } from 'mongoose';
import { District } from '../src/components/districts';
import { School } from '../src/components/schools';
import { Region } from '../src/components/regions';
import { CounselReview } from '../src/components/counsel-reviews';
import { User, type JobTitle, type Language, type Role } from '../src/components/users';
import { hashPassword } from '../src/components/auth';
import { seedDemoTraining } from './demo-training';

export const DEMO_PASSWORD = 'Demo-Training-2026!';
export const DEMO_DISTRICT_SLUG = 'demo-usd';
const DOMAIN = 'demo-usd.example';

export type DemoSignIn = { role: Role; email: string; note: string };

export const DEMO_SIGN_INS: readonly DemoSignIn[] = Object.freeze([
  { role: 'district_admin', email: `admin@${DOMAIN}`, note: 'district administrator' },
  { role: 'principal', email: `principal.lincoln@${DOMAIN}`, note: 'principal, Lincoln Elementary' },
  { role: 'principal', email: `principal.roosevelt@${DOMAIN}`, note: 'principal, Roosevelt Middle' },
  { role: 'region_admin', email: `region.north@${DOMAIN}`, note: 'region administrator, Region North (Lincoln, Roosevelt, Huerta)' },
  { role: 'staff', email: `teacher.lincoln@${DOMAIN}`, note: 'teacher, Lincoln Elementary; holds Classroom v1, offered the v2 update' },
  { role: 'staff', email: `frontoffice.lincoln@${DOMAIN}`, note: 'front office, Lincoln Elementary' },
  { role: 'staff', email: `substitute@${DOMAIN}`, note: 'substitute teacher, Lincoln Elementary and Roosevelt Middle; "Working at" on My training' },
]);

// The contact tree's middle level: each region has its own operations desk (over the district's).
const REGIONS = [
  {
    code: 'NORTH',
    name: 'Region North',
    contacts: { region_operations: { name: 'the Region North operations desk, Dana Whitfield', nameEs: 'la oficina de operaciones de la Región Norte, Dana Whitfield', phone: '(555) 010-0143' } },
  },
  {
    code: 'SOUTH',
    name: 'Region South',
    contacts: { region_operations: { name: 'the Region South operations desk, Luis Romero', nameEs: 'la oficina de operaciones de la Región Sur, Luis Romero', phone: '(555) 010-0144' } },
  },
] as const;

const SCHOOLS = [
  // Lincoln names its own principal: the demo's school-specific contact (player and quick-reference card).
  { code: 'LIN', name: 'Lincoln Elementary', region: 'NORTH', contacts: { principal: { name: 'Principal Marcus Whitaker', nameEs: 'Marcus Whitaker, director del plantel', phone: '(555) 010-0101' } } },
  { code: 'ROO', name: 'Roosevelt Middle', region: 'NORTH' },
  { code: 'HUE', name: 'Dolores Huerta High', region: 'NORTH' },
  { code: 'MAP', name: 'Maple Grove Elementary', region: 'SOUTH' },
  { code: 'SUN', name: 'Sunset Valley K-8', region: 'SOUTH' },
] as const;
type SchoolCode = (typeof SCHOOLS)[number]['code'];
type RegionCode = (typeof REGIONS)[number]['code'];

// Fictional contacts: 555-01xx numbers are reserved for fiction. Names read after "call …".
const CONTACTS = {
  principal: { name: 'your principal (site administrator)', nameEs: 'su director o directora (administración del plantel)', phone: '(555) 010-0100' },
  region_operations: { name: 'the Region Administrator of Operations, Dana Whitfield', nameEs: 'la Administradora de Operaciones de la Región, Dana Whitfield', phone: '(555) 010-0142' },
  counsel_office: { name: 'the Office of the General Counsel', nameEs: 'la Oficina del Asesor Jurídico General', phone: '(555) 010-0150' },
  rapid_response: { name: 'the Demo USD Rapid Response Line', nameEs: 'la Línea de Respuesta Rápida de Demo USD', phone: '(555) 010-0199' },
  school_police: { name: 'Demo USD School Police dispatch', nameEs: 'la central de la Policía Escolar de Demo USD', phone: '(555) 010-0111' },
  communications_office: { name: 'the Office of Communications', nameEs: 'la Oficina de Comunicaciones', phone: '(555) 010-0120' },
  family_hotline: { name: 'the Family Support Hotline', nameEs: 'la Línea de Apoyo a las Familias', phone: '(555) 010-0133' },
  records_requests: { name: 'the Student Records Office', nameEs: 'la Oficina de Expedientes Estudiantiles', phone: '(555) 010-0177' },
};

type DemoUser = {
  email: string;
  name: string;
  role: Role;
  jobTitle?: JobTitle;
  schools: SchoolCode[];
  /** Region administrators: the regions they oversee. */
  regions?: RegionCode[];
  language?: Language;
  active?: boolean;
  /** Days before today the person started (relative, so "due N days after start" stays demonstrable). */
  startedDaysAgo: number;
};

const NAMED_USERS: DemoUser[] = [
  { email: `admin@${DOMAIN}`, name: 'Renee Castellanos', role: 'district_admin', schools: [], startedDaysAgo: 3650 },
  { email: `principal.lincoln@${DOMAIN}`, name: 'Marcus Whitaker', role: 'principal', schools: ['LIN'], startedDaysAgo: 2900 },
  { email: `principal.roosevelt@${DOMAIN}`, name: 'Elena Vargas-Ochoa', role: 'principal', schools: ['ROO'], language: 'es', startedDaysAgo: 2100 },
  { email: `principal.huerta@${DOMAIN}`, name: 'Samuel Okafor', role: 'principal', schools: ['HUE'], startedDaysAgo: 1500 },
  { email: `principal.maple@${DOMAIN}`, name: 'Hye-jin Park', role: 'principal', schools: ['MAP', 'SUN'], startedDaysAgo: 1200 },
  { email: `teacher.lincoln@${DOMAIN}`, name: 'Grace Liu', role: 'staff', jobTitle: 'teacher', schools: ['LIN'], startedDaysAgo: 800 },
  { email: `frontoffice.lincoln@${DOMAIN}`, name: 'José Hernández', role: 'staff', jobTitle: 'front_office', schools: ['LIN'], startedDaysAgo: 1900 },
];

// A substitute at two schools: Lincoln first (their default), Roosevelt second (docs/contacts.md, "Working at").
// Listed after the generated staff, so the employee ids of a demo seeded before stay as they were.
const MULTI_SCHOOL_USERS: DemoUser[] = [
  { email: `substitute@${DOMAIN}`, name: 'Teresa Okonkwo', role: 'staff', jobTitle: 'substitute_teacher', schools: ['LIN', 'ROO'], startedDaysAgo: 400 },
];

// Region North's operations administrator (the region's operations desk in the contact tree): sees the region's
// schools and chases their principals (docs/compliance.md, "Region administrators"); works at the region office
// (no school). Last, so the employee ids of a demo seeded before stay as they were.
const REGION_USERS: DemoUser[] = [
  { email: `region.north@${DOMAIN}`, name: 'Dana Whitfield', role: 'region_admin', schools: [], regions: ['NORTH'], startedDaysAgo: 2600 },
];

const STAFF_NAMES = [
  'María Guadalupe Ramírez', 'Nguyen Thi Lan', 'Aisha Mohammed', 'Kwame Mensah', 'Sofía Castillo', 'Tamar Cohen',
  'Li Wei', 'Priya Raghavan', 'Darnell Washington', 'Ana Lucía Torres', 'Jorge Peña', 'Mei-Ling Chou',
  'Olumide Adeyemi', 'Rosa Martínez', 'Fatima Al-Sayed', 'Carlos Muñoz', 'Beatriz Gómez', 'Gabriela Ríos',
  'Tuan Pham', 'Emily Johnson', "Michael O'Brien", 'Yolanda Chávez', 'Arturo Domínguez', 'Keiko Tanaka',
  'Ruth Abebe', 'Isabel Núñez', 'David Kim', 'Lucía Fernández', 'Marcus Brown', 'Alejandra Vázquez',
  'Hamid Rahimi', 'Francisco Javier Ortiz', 'Noemí Salazar', 'Patrick Nguyen', 'Esperanza Morales', 'Dmitri Volkov',
  'Jasmine Lee', 'Raúl Jiménez', 'Valentina Cruz', 'Benjamin Harris', 'Imani Jackson', 'Ricardo Aguilar',
  'Sun-woo Choi', 'Leticia Herrera', 'Tomás Reyes', 'Hannah Goldberg', 'Mariana Soto', 'Ahmed Hassan',
  'Carmen Delgado', 'Kevin Tran', 'Guadalupe Flores', 'Nadia Petrova', 'Óscar Mendoza', 'Silvia Campos',
];

// Two thirds non-teachers, as in a real district: the people who meet officers first are rostered too.
const JOB_MIX: JobTitle[] = [
  ...Array<JobTitle>(17).fill('teacher'),
  'substitute_teacher', 'substitute_teacher', 'substitute_teacher',
  'paraeducator', 'paraeducator', 'paraeducator',
  'counselor', 'counselor',
  'front_office', 'front_office', 'front_office', 'front_office',
  'office_manager', 'office_manager',
  'registrar', 'attendance_clerk',
  'custodian', 'custodian', 'custodian', 'custodian', 'custodian',
  'bus_driver', 'bus_driver', 'bus_driver', 'bus_driver',
  'food_service', 'food_service', 'food_service', 'food_service',
  'campus_aide', 'campus_aide', 'campus_aide', 'campus_aide',
  'librarian', 'nurse', 'nurse', 'assistant_principal', 'assistant_principal', 'other',
];

/** "José Hernández" → "jose.hernandez": ASCII, lower case, dots between names. */
function emailLocalPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.|\.$/g, '');
}

function generatedStaff(): DemoUser[] {
  const codes = SCHOOLS.map((s) => s.code);
  return STAFF_NAMES.map((name, i) => {
    const jobTitle = JOB_MIX[(i * 5) % JOB_MIX.length];
    // Bus drivers and substitutes serve more than one school.
    const schools: SchoolCode[] = jobTitle === 'bus_driver' || jobTitle === 'substitute_teacher' ? [codes[i % 5], codes[(i + 1) % 5]] : [codes[i % 5]];
    return {
      email: `${emailLocalPart(name)}@${DOMAIN}`,
      name,
      role: 'staff' as const,
      jobTitle,
      schools,
      language: i % 3 === 0 ? ('es' as const) : ('en' as const),
      active: i !== STAFF_NAMES.length - 1,
      // A few recent hires (days ago), the rest over the last fifteen years.
      startedDaysAgo: i % 9 === 4 ? 5 + i : 120 + ((i * 97) % 5400),
    };
  });
}

export function demoUsers(): DemoUser[] {
  return [...NAMED_USERS, ...generatedStaff(), ...MULTI_SCHOOL_USERS, ...REGION_USERS];
}

/** Creates or updates the demo district. Returns the district id. */
export async function seedDemo(now = new Date()): Promise<Types.ObjectId> {
  const district = await District.findOneAndUpdate(
    { slug: DEMO_DISTRICT_SLUG },
    {
      $set: {
        name: 'Demo Unified School District',
        timeZone: 'America/Los_Angeles',
        jurisdiction: 'California',
        'settings.policyReference': 'BUL-0000 (demo)',
        'settings.contacts': CONTACTS,
        // The audit log's daily fingerprint goes to (fictional) counsel: in the demo, an .eml file in data/outbox.
        'settings.auditAnchorEmails': ['counsel@demo-usd.example'],
      },
    },
    { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true },
  ).orFail();

  await Region.bulkWrite(
    REGIONS.map((r) => ({ updateOne: { filter: { district: district._id, code: r.code }, update: { $set: { name: r.name, contacts: r.contacts } }, upsert: true } })),
  );
  const regions = await Region.find({ district: district._id, code: { $in: REGIONS.map((r) => r.code) } }).select('code').lean();
  const regionId = new Map(regions.map((r) => [r.code, r._id]));

  await School.bulkWrite(
    SCHOOLS.map((s) => ({
      updateOne: {
        filter: { district: district._id, code: s.code },
        update: { $set: { name: s.name, active: true, region: regionId.get(s.region)!, contacts: 'contacts' in s ? s.contacts : {} } },
        upsert: true,
      },
    })),
  );
  const schools = await School.find({ district: district._id, code: { $in: SCHOOLS.map((s) => s.code) } }).select('code').lean();
  const schoolId = new Map(schools.map((s) => [s.code, s._id]));

  // argon2 is deliberately slow: one hash shared by every demo account.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const users = demoUsers();
  await User.bulkWrite(
    users.map((u, i) => ({
      updateOne: {
        filter: { district: district._id, email: u.email },
        update: {
          $set: {
            name: u.name,
            role: u.role,
            schools: u.schools.map((c) => schoolId.get(c)!),
            active: u.active ?? true,
            employeeId: `D${String(100001 + i)}`,
            ...(u.jobTitle ? { jobTitle: u.jobTitle } : {}),
            ...(u.regions ? { regions: u.regions.map((c) => regionId.get(c)!) } : {}),
          },
          $setOnInsert: {
            passwordHash,
            preferredLanguage: u.language ?? 'en',
            startDate: new Date(now.getTime() - u.startedDaysAgo * 86_400_000),
          },
        },
        upsert: true,
      },
    })),
  );

  // Counsel's review recorded for one module (Foundations v1), so the demo shows both notices: "Reviewed for this
  // district by … on …" there, "To be reviewed by district counsel" on the others (docs/content-format.md).
  const admin = await User.findOne({ district: district._id, email: `admin@${DOMAIN}` }, { _id: 1 }).lean();
  await CounselReview.updateOne(
    { district: district._id, moduleSlug: 'foundations', moduleVersion: 1 },
    { $set: { reviewedOn: '2026-11-26', reviewer: 'Office of the General Counsel (demo)', recordedBy: admin!._id } },
    { upsert: true },
  );

  await seedDemoTraining(district._id);
  return district._id;
}

/** Seeds the demo district only into an empty database (the first `npm start`). Returns whether it did. */
export async function seedDemoIfEmpty(): Promise<boolean> {
  if ((await District.estimatedDocumentCount()) > 0) return false;
  await seedDemo();
  return true;
}
