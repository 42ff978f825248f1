export { Attempt, ATTEMPT_STATUSES, OUTCOMES, PLAY_PHASES, type AttemptRecord } from './attempt.model';
export { Completion, COMPLETION_METHODS, type CompletionMethod, type CompletionRecord } from './completion.model';
export { DecisionTally, DecisionTallyBuild, type DecisionTallyRecord } from './decision-tally.model';
export {
  decisionKey,
  deleteDecisionTallies,
  ensureDecisionTallies,
  isDecisionTallyBuilt,
  readDecisionTallies,
  rebuildDecisionTallies,
  scanFinishedDecisions,
  tallyFinishedAttempt,
  type RebuildResult,
  type TallyFigures,
  type TallyScope,
} from './decision-tallies';
