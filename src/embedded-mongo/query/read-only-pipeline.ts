import { isPlainObject, type Doc } from '../bson-values';

const SAFE_STAGES = new Set(['$match', '$group', '$count', '$sort', '$limit', '$skip', '$sortByCount', '$unwind', '$replaceRoot', '$replaceWith', '$bucket']);

function topLevelOnly(spec: unknown): boolean {
  return isPlainObject(spec) && Object.keys(spec).every((k) => !k.includes('.'));
}

/**
 * Whether mingo can run this pipeline without writing into its input documents, so stored documents can
 * be handed to it uncopied. mingo's `$addFields`/`$set`/`$project` copy only the top level, so dotted
 * paths would write into shared sub-documents; anything not known to be safe counts as unsafe.
 */
export function isReadOnlyPipeline(stages: Doc[]): boolean {
  return stages.every((stage) => {
    const [name] = Object.keys(stage);
    const spec = stage[name];
    if (SAFE_STAGES.has(name)) return true;
    if (name === '$addFields' || name === '$set' || name === '$project') return topLevelOnly(spec);
    if (name === '$lookup') {
      return isPlainObject(spec) && (spec.pipeline === undefined || (Array.isArray(spec.pipeline) && isReadOnlyPipeline(spec.pipeline as Doc[])));
    }
    if (name === '$facet') {
      return isPlainObject(spec) && Object.values(spec).every((p) => Array.isArray(p) && isReadOnlyPipeline(p as Doc[]));
    }
    return false;
  });
}
