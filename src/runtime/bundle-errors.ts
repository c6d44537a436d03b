/**
 * @file The errors of loading and calling a bundle: a BundleError names the file of the bundle and
 * what is wrong with it (a corrupt, truncated, missing or edited file); an InputError names the
 * input of a call that does not fit the program. Imports nothing.
 */

/** A bundle that cannot be loaded: `file` (relative to the bundle) and `problem` say why. */
export class BundleError extends Error {
  constructor(
    /** Where the bundle is (a directory or URL). */
    readonly bundle: string,
    /** The file of the bundle at fault, relative to the bundle (`js/manifest.json`). */
    readonly file: string,
    /** What is wrong with it. */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`bundle ${bundle}: ${file}: ${problem}`, options);
    this.name = 'BundleError';
  }
}

/** A call's inputs that do not fit the program (an unknown or missing name, a shape or dtype that differs). */
export class InputError extends Error {
  constructor(
    /** The program's name. */
    readonly program: string,
    /** The input at fault (undefined when the problem is the inputs object itself). */
    readonly input: string | undefined,
    readonly problem: string,
  ) {
    super(`${program}: ${input !== undefined ? `input \`${input}\`: ` : ''}${problem}`);
    this.name = 'InputError';
  }
}
