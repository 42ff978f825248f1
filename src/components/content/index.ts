/**
 * Public surface of the content feature: loading, validating and rendering the training modules in
 * `modules/` (format: docs/content-format.md). Other features import only from here.
 */
export {
  LANGS,
  ROLES,
  OUTCOMES,
  OUTCOME_POINTS,
  POINTS_PER_DECISION,
  trainingModuleSchema,
  type Lang,
  type Role,
  type Outcome,
  type BilingualText,
  type Choice,
  type NarrativeNode,
  type DecisionNode,
  type EndNode,
  type ScenarioNode,
  type Scenario,
  type Source,
  type ChangelogEntry,
  type UpdatePath,
  type TrainingModuleContent,
} from './content.schemas';
export {
  validateModuleData,
  checkModule,
  listTexts,
  formatPath,
  parsePath,
  type ContentProblem,
  type ExpectedIdentity,
  type ValidationResult,
} from './content.validate';
export { scorePercent, isPassingScore, bestModuleScore, pathOutcomes, type PathOutcome } from './content.graph';
export { loadModules, parseModuleSource, hashContent, type LoadedModuleVersion, type LoadResult } from './content.loader';
export {
  createModuleCatalog,
  loadModuleCatalog,
  findEditedVersions,
  findScenario,
  findNode,
  formatProblem,
  ContentLoadError,
  type ModuleCatalog,
  type PublishedVersionHash,
  type EditedVersion,
} from './content.catalog';
export {
  CONTACT_KEYS,
  PLACEHOLDER_KEYS,
  DEFAULT_CONTENT_SETTINGS,
  DEFAULT_CONTENT_SETTINGS_BY_LANG,
  fillPlaceholders,
  isKnownPlaceholder,
  listPlaceholders,
  type ContactKey,
  type ContactSetting,
  type DistrictContentSettings,
} from './placeholders';
export { renderText, renderInline, renderLabel, escapeHtml } from './content.render';
export { toTelHref } from './phone-link';
