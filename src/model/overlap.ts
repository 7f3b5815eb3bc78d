import type { ModelFile, TrainingInput } from './types';

/**
 * The inputs that were part of the model's own training data, told by the digests the model keeps
 * of its training inputs (`training.inputs[].sha256`): scoring on them is not a held-out score.
 */
export function ownTrainingInputs(model: ModelFile, inputs: readonly TrainingInput[]): TrainingInput[] {
  const trained = new Set((model.training?.inputs ?? []).map((i) => i.sha256));
  return inputs.filter((i) => trained.has(i.sha256));
}
