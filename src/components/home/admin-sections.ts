/** The district admin's areas: the sub-navigation on every /admin page and the /admin index, in this order. */
export const ADMIN_SECTIONS = [
  { href: '/admin/assignments', label: 'nav.assignments', about: 'nav.about.assignments' },
  { href: '/admin/modules', label: 'modules.nav', about: 'nav.about.modules' },
  { href: '/admin/users', label: 'nav.users', about: 'nav.about.users' },
  { href: '/admin/roster', label: 'roster.nav', about: 'nav.about.roster' },
  { href: '/admin/scim', label: 'scim.nav', about: 'nav.about.scim' },
  { href: '/admin/xapi', label: 'xapi.nav', about: 'xapi.about' },
  { href: '/admin/lti', label: 'lti.nav', about: 'nav.about.lti' },
  { href: '/admin/schools', label: 'nav.schools', about: 'nav.about.schools' },
  { href: '/admin/regions', label: 'regions.nav', about: 'regions.about' },
  { href: '/admin/settings', label: 'nav.settings', about: 'nav.about.settings' },
  { href: '/admin/audit', label: 'audit.nav', about: 'nav.about.audit' },
] as const;
