// The schemas and the service first: regions build their form schema from these at load time, and the router's
// imports (reminders → … → schools → regions) come back here before this file has finished loading.
export { isTimeZone, contactsFormSchema, contactFields, contactFormValues, contactsMissingSpanish, toContactsInput, type ContactInput, type ContactsInput } from './settings.schemas';
export { contactChanges, type ContactChange } from './contact-changes';
export { getDistrictContext, forgetDistrictContext, contactsWithoutSpanish, withContacts, storedContacts, contactFallbacks, type ContactFallback, type DistrictContext } from './settings.service';
export { settingsRouter } from './settings.routes';
