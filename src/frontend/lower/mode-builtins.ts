/**
 * @file `training()`: the mode a function is lowered in (docs/language.md §15). True while lowering
 * the loss of a `train` step, false everywhere else (entry points, `dlc run`, bundles), so a model
 * branches on it with a static `if` and only the branch of the mode is compiled.
 */
import type { Builtin } from './builtins.js';
import { bool } from './values.js';

export const MODE_BUILTINS: Builtin[] = [
  {
    name: 'training',
    params: [],
    doc: 'true while lowering a `train` step (its loss), false in entry points and bundles: branch with `if training() { … }`',
    call(lw, args, span) {
      lw.bindArgs([], args, 'training', span);
      return bool(lw.training);
    },
  },
];
