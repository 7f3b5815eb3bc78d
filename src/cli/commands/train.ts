import type { Command } from 'commander';
import { UserError } from '../../util/errors';

// Placeholder until the train command lands (being written now); registered so the CLI builds.
export function registerTrain(program: Command): void {
  program.command('train').description('(not yet available)').allowUnknownOption().action(() => {
    throw new UserError('spymate train is not available in this build yet');
  });
}
