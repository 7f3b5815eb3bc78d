#!/usr/bin/env node
import { runMain } from '../util/errors';
import { newProgram, parseProgram } from './program';
import { registerExtract } from './commands/extract';
import { registerTrain } from './commands/train';
import { registerEval } from './commands/eval';
import { registerPredict } from './commands/predict';
import { registerTrainCalls } from './commands/train-calls';

runMain('spymate', async () => {
  const program = newProgram('spymate', 'Extract video-call window features, train and evaluate presence models.');
  registerExtract(program);
  registerTrain(program);
  registerEval(program);
  registerPredict(program);
  registerTrainCalls(program);
  await parseProgram(program, process.argv);
});
