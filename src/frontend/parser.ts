/**
 * @file The grammar, as a Chevrotain CST parser with error recovery on, so one run reports every
 * syntax error. Newlines are whitespace: statements are self-delimiting (`;` is optional).
 * The CST is turned into the AST by to-ast.ts.
 */
import { CstParser, tokenMatcher, type CstNode } from 'chevrotain';
import * as T from './tokens.js';

export class DlParser extends CstParser {
  /**
   * `validate` runs Chevrotain's grammar checks (ambiguous alternatives, left recursion, duplicate
   * productions) while the grammar is analysed. They cost start-up time and can only fail when the
   * grammar itself is edited, so the compiler skips them and test/frontend/grammar.test.ts runs them.
   */
  constructor(opts: { validate?: boolean } = {}) {
    super(T.ALL_TOKENS, {
      recoveryEnabled: true,
      maxLookahead: 3,
      nodeLocationTracking: 'full',
      skipValidations: !opts.validate,
    });
    this.performSelfAnalysis();
  }

  program = this.RULE('program', () => {
    this.MANY(() => this.SUBRULE(this.topDecl));
  });

  /** Whether the next tokens are `train NAME` (`train` is not a keyword, see trainDecl). */
  private startsTrain(): boolean {
    return tokenMatcher(this.LA(1), T.TrainWord) && tokenMatcher(this.LA(2), T.Identifier);
  }

  topDecl = this.RULE('topDecl', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.fnDecl) },
      { ALT: () => this.SUBRULE(this.modelDecl) },
      { ALT: () => this.SUBRULE(this.letStmt) },
      // `train` is not a keyword (a parameter may be called `train`): it starts a declaration
      // only as the first word of a top-level declaration followed by a name.
      { GATE: () => this.startsTrain(), ALT: () => this.SUBRULE(this.trainDecl) },
      { ALT: () => this.CONSUME(T.Semi) },
    ]);
  });

  /**
   * `train NAME = Model.loss with optimizer(hyper = …)` or `train NAME { field = expr … }`.
   * `train` is a TrainWord (also an Identifier); `with` is read as a name and its spelling is
   * checked by to-ast.ts, so neither is reserved.
   */
  trainDecl = this.RULE('trainDecl', () => {
    this.CONSUME(T.TrainWord, { LABEL: 'trainKw' });
    this.CONSUME2(T.Identifier, { LABEL: 'name' });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Assign);
          this.SUBRULE(this.entryPath);
          this.CONSUME3(T.Identifier, { LABEL: 'withKw' });
          this.SUBRULE(this.expr, { LABEL: 'optimizer' });
          this.OPTION(() => this.CONSUME(T.Semi));
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBrace);
          this.MANY(() => {
            this.OR2([{ ALT: () => this.SUBRULE(this.trainField) }, { ALT: () => this.CONSUME2(T.Semi) }]);
          });
          this.CONSUME(T.RBrace);
        },
      },
    ]);
  });

  /** `f`, `Model.f` or `inst.f`: the loss of a one-line `train`. */
  entryPath = this.RULE('entryPath', () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Identifier);
    });
  });

  trainField = this.RULE('trainField', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
  });

  constDecl = this.RULE('constDecl', () => {
    this.CONSUME(T.Const);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
    this.OPTION2(() => this.CONSUME(T.Semi));
  });

  fnDecl = this.RULE('fnDecl', () => {
    this.CONSUME(T.Fn);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.paramList));
    this.CONSUME(T.RParen);
    this.OPTION2(() => {
      this.CONSUME(T.Arrow);
      this.SUBRULE(this.typeExpr);
    });
    this.SUBRULE(this.block);
  });

  paramList = this.RULE('paramList', () => {
    this.SUBRULE(this.paramDecl);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.OPTION(() => this.SUBRULE2(this.paramDecl));
    });
  });

  paramDecl = this.RULE('paramDecl', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Assign);
      this.SUBRULE(this.expr);
    });
  });

  modelDecl = this.RULE('modelDecl', () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.OPTION2(() => this.SUBRULE(this.paramList));
      this.CONSUME(T.RParen);
    });
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.modelMember));
    this.CONSUME(T.RBrace);
  });

  modelMember = this.RULE('modelMember', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.paramMember) },
      { ALT: () => this.SUBRULE(this.layerMember) },
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.fnDecl) },
      { ALT: () => this.CONSUME(T.Semi) },
    ]);
  });

  paramMember = this.RULE('paramMember', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Param) }, { ALT: () => this.CONSUME(T.StateWord, { LABEL: 'stateKw' }) }]);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
    this.OPTION(() => this.CONSUME(T.Semi));
  });

  layerMember = this.RULE('layerMember', () => {
    this.CONSUME(T.Layer);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      this.SUBRULE(this.expr);
      this.CONSUME(T.RBracket);
    });
    this.CONSUME(T.Assign);
    this.SUBRULE2(this.expr);
    this.OPTION2(() => this.CONSUME(T.Semi));
  });

  block = this.RULE('block', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.stmt));
    this.CONSUME(T.RBrace);
  });

  stmt = this.RULE('stmt', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.assignOrExpr) },
      { ALT: () => this.CONSUME(T.Semi) },
    ]);
  });

  letStmt = this.RULE('letStmt', () => {
    this.CONSUME(T.Let);
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.CONSUME2(T.Identifier);
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.CONSUME3(T.Identifier);
          });
          this.CONSUME(T.RParen);
        },
      },
    ]);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
    this.OPTION2(() => this.CONSUME(T.Semi));
  });

  forStmt = this.RULE('forStmt', () => {
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.In);
    this.SUBRULE(this.expr);
    this.OPTION(() => {
      this.CONSUME(T.DotDot);
      this.SUBRULE2(this.expr);
    });
    this.SUBRULE(this.block);
  });

  ifStmt = this.RULE('ifStmt', () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expr);
    // `if a = b {`: a common slip, read as `a == b` and reported with a hint (see to-ast.ts).
    this.OPTION2(() => {
      this.CONSUME(T.Assign, { LABEL: 'assignInCondition' });
      this.SUBRULE3(this.expr, { LABEL: 'conditionRhs' });
    });
    this.SUBRULE(this.block);
    this.OPTION(() => {
      this.CONSUME(T.Else);
      this.OR([{ ALT: () => this.SUBRULE(this.ifStmt) }, { ALT: () => this.SUBRULE2(this.block) }]);
    });
  });

  returnStmt = this.RULE('returnStmt', () => {
    this.CONSUME(T.Return);
    this.SUBRULE(this.expr);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.expr);
    });
    this.OPTION(() => this.CONSUME(T.Semi));
  });

  assignOrExpr = this.RULE('assignOrExpr', () => {
    this.SUBRULE(this.expr);
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Assign) },
        { ALT: () => this.CONSUME(T.PlusAssign) },
        { ALT: () => this.CONSUME(T.MinusAssign) },
        { ALT: () => this.CONSUME(T.StarAssign) },
        { ALT: () => this.CONSUME(T.SlashAssign) },
      ]);
      this.SUBRULE2(this.expr);
    });
    this.OPTION2(() => this.CONSUME(T.Semi));
  });

  // ---- types ----

  typeExpr = this.RULE('typeExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.OPTION(() => {
            this.CONSUME(T.LBracket);
            this.OPTION2(() => {
              this.SUBRULE(this.dim);
              this.MANY(() => {
                this.CONSUME(T.Comma);
                this.SUBRULE2(this.dim);
              });
            });
            this.CONSUME(T.RBracket);
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME2(T.LBracket);
          this.SUBRULE(this.typeExpr);
          this.CONSUME2(T.RBracket);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE2(this.typeExpr);
          this.MANY2(() => {
            this.CONSUME2(T.Comma);
            this.SUBRULE3(this.typeExpr);
          });
          this.CONSUME(T.RParen);
        },
      },
    ]);
  });

  dim = this.RULE('dim', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Ellipsis) },
      {
        ALT: () => {
          this.CONSUME(T.Star);
          this.CONSUME(T.Identifier);
        },
      },
      { ALT: () => this.SUBRULE(this.expr) },
    ]);
  });

  // ---- expressions, lowest precedence first ----

  expr = this.RULE('expr', () => {
    this.SUBRULE(this.orExpr);
  });

  orExpr = this.RULE('orExpr', () => {
    this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr);
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr);
    });
  });

  notExpr = this.RULE('notExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.cmpExpr) },
    ]);
  });

  cmpExpr = this.RULE('cmpExpr', () => {
    this.SUBRULE(this.addExpr);
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LessEq) },
        { ALT: () => this.CONSUME(T.GreaterEq) },
        { ALT: () => this.CONSUME(T.Less) },
        { ALT: () => this.CONSUME(T.Greater) },
      ]);
      this.SUBRULE2(this.addExpr);
    });
  });

  addExpr = this.RULE('addExpr', () => {
    this.SUBRULE(this.mulExpr);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.mulExpr);
    });
  });

  mulExpr = this.RULE('mulExpr', () => {
    this.SUBRULE(this.unaryExpr);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.SlashSlash) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
        { ALT: () => this.CONSUME(T.At) },
      ]);
      this.SUBRULE2(this.unaryExpr);
    });
  });

  unaryExpr = this.RULE('unaryExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([{ ALT: () => this.CONSUME(T.Minus) }, { ALT: () => this.CONSUME(T.Plus) }]);
          this.SUBRULE(this.unaryExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.powExpr) },
    ]);
  });

  powExpr = this.RULE('powExpr', () => {
    this.SUBRULE(this.postfixExpr);
    this.OPTION(() => {
      this.CONSUME(T.StarStar);
      this.SUBRULE(this.unaryExpr);
    });
  });

  postfixExpr = this.RULE('postfixExpr', () => {
    this.SUBRULE(this.primary);
    // A call's `(` must be on the callee's line, so that a statement starting with `(` — the
    // tuple assignment `(h, c) = cell(…)` — is not read as a call of the line before.
    this.MANY({
      GATE: () => this.LA(1).tokenType !== T.LParen || this.LA(1).startLine === this.LA(0).endLine,
      DEF: () => {
        this.OR([
          { ALT: () => this.SUBRULE(this.callSuffix) },
          { ALT: () => this.SUBRULE(this.indexSuffix) },
          { ALT: () => this.SUBRULE(this.memberSuffix) },
        ]);
      },
    });
  });

  callSuffix = this.RULE('callSuffix', () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.arg);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.OPTION2(() => this.SUBRULE2(this.arg));
      });
    });
    this.CONSUME(T.RParen);
  });

  arg = this.RULE('arg', () => {
    this.OPTION({
      GATE: () => tokenMatcher(this.LA(1), T.Identifier) && this.LA(2).tokenType === T.Assign,
      DEF: () => {
        this.CONSUME(T.Identifier);
        this.CONSUME(T.Assign);
      },
    });
    this.SUBRULE(this.expr);
  });

  indexSuffix = this.RULE('indexSuffix', () => {
    this.CONSUME(T.LBracket);
    this.SUBRULE(this.indexItem);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.indexItem);
    });
    this.CONSUME(T.RBracket);
  });

  /** `e`, `...`, or a slice `a:b:c` with every part optional. */
  /** `e`, `...`, or a slice `a:b:c` (parts optional, but an item is never empty). */
  indexItem = this.RULE('indexItem', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Ellipsis) },
      {
        ALT: () => {
          this.SUBRULE(this.expr, { LABEL: 'start' });
          this.OPTION(() => this.SUBRULE(this.sliceTail));
        },
      },
      { ALT: () => this.SUBRULE2(this.sliceTail) },
    ]);
  });

  sliceTail = this.RULE('sliceTail', () => {
    this.CONSUME(T.Colon, { LABEL: 'colon1' });
    this.OPTION(() => this.SUBRULE(this.expr, { LABEL: 'stop' }));
    this.OPTION2(() => {
      this.CONSUME2(T.Colon, { LABEL: 'colon2' });
      this.OPTION3(() => this.SUBRULE2(this.expr, { LABEL: 'step' }));
    });
  });

  memberSuffix = this.RULE('memberSuffix', () => {
    this.CONSUME(T.Dot);
    this.CONSUME(T.Identifier);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Float) },
      { ALT: () => this.CONSUME(T.Int) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expr);
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.OPTION(() => this.SUBRULE2(this.expr));
          });
          this.CONSUME(T.RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.OPTION2(() => {
            this.SUBRULE3(this.expr);
            this.MANY2(() => {
              this.CONSUME2(T.Comma);
              this.OPTION3(() => this.SUBRULE4(this.expr));
            });
          });
          this.CONSUME(T.RBracket);
        },
      },
    ]);
  });
}

let instance: DlParser | undefined;

/** The parser is built once (grammar analysis is slow) and reused. */
export function getParser(): DlParser {
  instance ??= new DlParser();
  return instance;
}

export type { CstNode };
