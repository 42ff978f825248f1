export { settingsRouter } from './settings.routes';
export { getDistrictContext, forgetDistrictContext, contactsWithoutSpanish, withContacts, storedContacts, type DistrictContext } from './settings.service';
export { contactsFormSchema, contactFields, contactFormValues, contactsMissingSpanish, toContactsInput, type ContactInput, type ContactsInput } from './settings.schemas';
export { isTimeZone } from './settings.schemas';
export { contactChanges, type ContactChange } from './contact-changes';
