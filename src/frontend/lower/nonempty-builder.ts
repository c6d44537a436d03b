/**
 * @file The graph builder lowering uses: a GraphBuilder that refuses tensors with no elements.
 * An axis of size 0 (an empty slice, `zeros([0, 3])`, a dimension of 0) has nothing to compute,
 * and the generated kernels would divide by it; so it is an error (DL0315) at the expression that
 * made it, instead of a miscompiled program.
 */
import { GraphBuilder } from '../../ir/builder.js';
import type { Graph, Node } from '../../ir/graph.js';
import { OpError, type Attrs } from '../../ir/op.js';
import { formatType } from '../../ir/types.js';

export const EMPTY_TENSOR_HELP = 'every axis must have at least one element; check the sizes and slice bounds';

export class NonEmptyBuilder extends GraphBuilder {
  override add(op: string, inputs: readonly Node[], attrs: Attrs = {}, body?: Graph): Node {
    const node = super.add(op, inputs, attrs, body);
    const axis = node.type.shape.indexOf(0);
    if (axis >= 0) {
      throw new OpError('DL0315', (w) => `${w ? w.replace(/^ in /, '') : 'this'} gives a tensor with no elements: ${formatType(node.type)} (axis ${axis} has size 0)`, EMPTY_TENSOR_HELP);
    }
    return node;
  }
}
