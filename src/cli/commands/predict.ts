import type { Command } from 'commander';
import { UserError } from '../../util/errors';

// Placeholder until the predict command lands (being written now); registered so the CLI builds.
export function registerPredict(program: Command): void {
  program.command('predict').description('(not yet available)').allowUnknownOption().action(() => {
    throw new UserError('spymate predict is not available in this build yet');
  });
}
