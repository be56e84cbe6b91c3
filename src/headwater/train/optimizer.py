"""`tf.train.Optimizer`: the TF1 base class of gradient-based optimizers.

`minimize` = `compute_gradients` (the autodiff engine, w.r.t. each variable's ref tensor) +
`apply_gradients`, which creates the slot variables (`_create_slots`), builds the
hyperparameter tensors (`_prepare`) inside a name scope named after the optimizer, one fused
update op per variable under "<optimizer>/update_<var>/" (`_apply_dense`, or
`_apply_sparse` for `IndexedSlices` gradients, duplicates summed first), and groups them
(`_finish`). With `global_step` the returned op is the increment of the step, run after all
updates, and named like the optimizer -- the graph TF1 builds.
"""

from __future__ import annotations

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.gradients import IndexedSlices
from headwater.gradients import gradients as _gradients
from headwater.ops import array_ops, control_flow_ops, math_ops, state_ops
from headwater.ops import variables as _variables
from headwater.train import slot_creator

__all__ = ["Optimizer"]

_GraphKeys = _ops.GraphKeys


def _var_key(var):
    return (var.op.graph, var.op.name)


def _flatten(x):
    if isinstance(x, dict):
        out = []
        for k in sorted(x):
            out.extend(_flatten(x[k]))
        return out
    if isinstance(x, (list, tuple)):
        out = []
        for e in x:
            out.extend(_flatten(e))
        return out
    return [x]


class _RefVariableProcessor:
    """Updates a TF1 reference variable."""

    def __init__(self, v):
        self._v = v

    def __str__(self):
        return "<_RefVariableProcessor(%s)>" % self._v

    def target(self):
        return self._v._ref()

    def update_op(self, optimizer, g):
        if isinstance(g, _ops.Tensor):
            update_op = optimizer._apply_dense(g, self._v)
            if self._v.constraint is not None:
                with _ops.control_dependencies([update_op]):
                    return self._v.assign(self._v.constraint(self._v))
            return update_op
        if self._v.constraint is not None:
            raise RuntimeError("Cannot use a constraint function on a sparse variable.")
        return optimizer._apply_sparse_duplicate_indices(g, self._v)


class _TensorProcessor:
    """A plain tensor in `var_list`: gradients can be computed, not applied."""

    def __init__(self, v):
        self._v = v

    def target(self):
        return self._v

    def update_op(self, optimizer, g):
        raise NotImplementedError("Trying to update a Tensor %s" % self._v)


def _get_processor(v):
    if isinstance(v, _variables.Variable):
        return _RefVariableProcessor(v)
    if isinstance(v, _ops.Tensor):
        return _TensorProcessor(v)
    raise NotImplementedError("Trying to optimize unsupported type %r" % (v,))


def _deduplicate_indexed_slices(values, indices):
    """Sum the values of repeated indices: (summed_values, unique_indices)."""
    unique_indices, new_index_positions = array_ops.unique(indices)
    summed_values = math_ops.unsorted_segment_sum(values, new_index_positions,
                                                  array_ops.shape(unique_indices)[0])
    return summed_values, unique_indices


def _gate_all(grads):
    """TF1's GATE_GRAPH: every gradient becomes available only once all are computed."""
    pieces = []
    for g in grads:
        if isinstance(g, IndexedSlices):
            pieces.extend([g.values, g.indices])
        elif g is not None:
            pieces.append(g)
    if not pieces:
        return list(grads)
    with _ops.name_scope(None, "tuple", pieces):
        gate = control_flow_ops.group(*pieces)
        out = []
        for g in grads:
            if g is None:
                out.append(None)
            elif isinstance(g, IndexedSlices):
                out.append(IndexedSlices(
                    control_flow_ops.with_dependencies([gate], g.values),
                    control_flow_ops.with_dependencies([gate], g.indices), g.dense_shape))
            else:
                out.append(control_flow_ops.with_dependencies([gate], g))
    return out


class Optimizer:
    """Base class for optimizers (TF1's `tf.train.Optimizer`).

    Subclasses implement `_create_slots`, `_prepare`, `_apply_dense`, `_apply_sparse` and,
    if they keep extra state, `_finish`.
    """

    # Values for the `gate_gradients` argument.
    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        """Args:
          use_locking: accepted for TF1 compatibility (updates run one at a time).
          name: name of the optimizer; its ops are created in a name scope of that name.
        Raises:
          ValueError: if `name` is empty.
        """
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        # slot name -> {var key -> slot Variable}
        self._slots = {}
        # (name, graph) -> Variable
        self._non_slot_dict = {}

    def get_name(self):
        """The optimizer's name."""
        return self._name

    # ---- the public API ------------------------------------------------------------------

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """Add ops that minimize `loss` by updating `var_list`.

        Args:
          loss: the Tensor to minimize.
          global_step: optional integer Variable incremented once per update.
          var_list: variables to update (default: the TRAINABLE_VARIABLES collection).
          gate_gradients: GATE_NONE, GATE_OP or GATE_GRAPH.
          aggregation_method, colocate_gradients_with_ops: passed to `gradients`.
          name: name of the returned operation (default: the optimizer's name).
          grad_loss: optional gradient of `loss` to start from.
        Returns:
          An Operation that updates the variables (and increments `global_step`).
        Raises:
          ValueError: if no variable is to be optimized or none gets a gradient.
        """
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not "
                "support gradients, between variables %s and loss %s."
                % ([str(v) for _, v in grads_and_vars], loss))
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """Gradients of `loss` for the variables in `var_list`.

        Args:
          loss: a Tensor (or a callable returning one).
          var_list: variables (default: trainable variables plus the
            TRAINABLE_RESOURCE_VARIABLES collection).
          gate_gradients: GATE_NONE, GATE_OP or GATE_GRAPH (GATE_GRAPH makes every gradient
            wait until all are computed).
          grad_loss: optional gradient of `loss` to start from.
        Returns:
          A list of (gradient, variable) pairs; the gradient is None for a variable `loss`
          does not depend on.
        Raises:
          ValueError: if `var_list` is empty or `gate_gradients` is invalid.
          TypeError: if `loss` or a variable is not a float type (via ValueError, as TF1).
        """
        if callable(loss):
            loss = loss()
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP,
                                  Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, "
                             "Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not %s"
                             % gate_gradients)
        if not isinstance(loss, _ops.Tensor):
            loss = _ops.convert_to_tensor(loss)
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            grad_loss = _ops.convert_to_tensor(grad_loss)
            self._assert_valid_dtypes([grad_loss])
        if var_list is None:
            var_list = (_variables.trainable_variables()
                        + _ops.get_collection(_GraphKeys.TRAINABLE_RESOURCE_VARIABLES))
        else:
            var_list = _flatten(var_list)
        processors = [_get_processor(v) for v in var_list]
        if not var_list:
            raise ValueError("No variables to optimize.")
        var_refs = [p.target() for p in processors]
        grads = _gradients(loss, var_refs, grad_ys=grad_loss,
                           gate_gradients=(gate_gradients == Optimizer.GATE_OP),
                           aggregation_method=aggregation_method,
                           colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = _gate_all(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Apply gradients to variables: the second half of `minimize`.

        Args:
          grads_and_vars: (gradient, variable) pairs, as from `compute_gradients`; gradients
            may be Tensors, `IndexedSlices` or None (that variable is skipped).
          global_step: optional integer Variable incremented by one after the updates.
          name: name of the returned operation (default: the optimizer's name).
        Returns:
          An Operation that applies the gradients (and then increments `global_step`).
        Raises:
          TypeError: if a gradient is not a Tensor or IndexedSlices.
          ValueError: if `grads_and_vars` is empty or has no gradient at all.
        """
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if g is not None and not isinstance(g, IndexedSlices):
                try:
                    g = _ops.convert_to_tensor(g)
                except (TypeError, ValueError):
                    raise TypeError("Gradient must be convertible to a Tensor or "
                                    "IndexedSlices, or None: %s" % (g,)) from None
                if not isinstance(g, _ops.Tensor):
                    raise TypeError("Gradient must be a Tensor, IndexedSlices, or None: %s"
                                    % (g,))
            converted.append((g, v, _get_processor(v)))
        var_list = [v for g, v, _ in converted if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: %s."
                             % ([str(v) for _, v, _ in converted],))
        with _variables.init_scope():
            self._create_slots(var_list)
        update_ops = []
        with _ops.name_scope(name, self._name) as name:
            self._prepare()
            for grad, var, processor in converted:
                if grad is None:
                    continue
                scope_name = var.op.name if isinstance(var, _variables.Variable) else ""
                with _ops.name_scope("update_" + scope_name):
                    update_ops.append(processor.update_op(self, grad))
            if global_step is None:
                apply_updates = self._finish(update_ops, name)
            else:
                with _ops.control_dependencies([self._finish(update_ops, "update")]):
                    apply_updates = state_ops.assign_add(global_step, 1, name=name)
            if isinstance(apply_updates, _ops.Tensor):
                apply_updates = apply_updates.op
            train_op = _ops.get_collection_ref(_GraphKeys.TRAIN_OP)
            if apply_updates not in train_op:
                train_op.append(apply_updates)
            return apply_updates

    def get_slot(self, var, name):
        """The slot variable `name` created for `var` (None if there is none).

        Args:
          var: a variable passed to `minimize()` or `apply_gradients()`.
          name: a slot name, one of `get_slot_names()`.
        """
        named_slots = self._slots.get(name)
        if not named_slots:
            return None
        return named_slots.get(_var_key(var))

    def get_slot_names(self):
        """The sorted names of the slots this optimizer creates."""
        return sorted(self._slots.keys())

    def variables(self):
        """The optimizer's variables in the default graph (slots and non-slot variables such
        as Adam's beta powers), sorted by name."""
        current_graph = _ops.get_default_graph()
        out = [v for v in self._non_slot_variables() if v.op.graph is current_graph]
        for slots in self._slots.values():
            for v in slots.values():
                if v.op.graph is current_graph:
                    out.append(v)
        return sorted(out, key=lambda v: v.name)

    # ---- hooks for subclasses --------------------------------------------------------------

    def _create_slots(self, var_list):
        """Create the slot variables of every variable in `var_list` (default: none)."""

    def _prepare(self):
        """Build the hyperparameter tensors (inside the optimizer's name scope)."""

    def _apply_dense(self, grad, var):
        """The update op for a dense gradient."""
        raise NotImplementedError()

    def _apply_sparse(self, grad, var):
        """The update op for an `IndexedSlices` gradient without duplicate indices."""
        raise NotImplementedError()

    def _apply_sparse_duplicate_indices(self, grad, var):
        """Sum the values of repeated indices, then `_apply_sparse`."""
        summed_values, unique_indices = _deduplicate_indexed_slices(grad.values, grad.indices)
        return self._apply_sparse(IndexedSlices(summed_values, unique_indices,
                                                grad.dense_shape), var)

    def _finish(self, update_ops, name_scope):
        """The op that completes the update (default: a group of `update_ops`)."""
        return control_flow_ops.group(*update_ops, name=name_scope)

    # ---- helpers -----------------------------------------------------------------------------

    def _call_if_callable(self, param):
        return param() if callable(param) else param

    def _valid_dtypes(self):
        return {_dtypes.float16, _dtypes.bfloat16, _dtypes.float32, _dtypes.float64}

    def _assert_valid_dtypes(self, tensors):
        valid = self._valid_dtypes()
        for t in tensors:
            dtype = t.dtype.base_dtype
            if dtype not in valid:
                raise ValueError("Invalid type %r for %s, expected: %s."
                                 % (dtype, t.name, [v for v in valid]))

    def _slot_dict(self, slot_name):
        named_slots = self._slots.get(slot_name)
        if named_slots is None:
            named_slots = self._slots[slot_name] = {}
        return named_slots

    def _get_or_make_slot(self, var, val, slot_name, op_name):
        """The slot `slot_name` of `var`, created with initial value `val` if needed."""
        named_slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named_slots:
            named_slots[key] = slot_creator.create_slot(var, val, op_name)
        return named_slots[key]

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype, slot_name,
                                           op_name):
        """The slot `slot_name` of `var`, created from `initializer` if needed."""
        named_slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named_slots:
            named_slots[key] = slot_creator.create_slot_with_initializer(
                var, initializer, shape, dtype, op_name)
        return named_slots[key]

    def _zeros_slot(self, var, slot_name, op_name):
        """The slot `slot_name` of `var`, zero-initialized if created here."""
        named_slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named_slots:
            named_slots[key] = slot_creator.create_zeros_slot(var, op_name)
        return named_slots[key]

    def _create_non_slot_variable(self, initial_value, name, colocate_with):
        """A variable owned by the optimizer rather than by one variable (e.g. Adam's
        beta1_power), created once per graph."""
        graph = colocate_with.graph
        key = (name, graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with graph.as_default():
                v = _variables.Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name, graph=None):
        return self._non_slot_dict.get((name, graph))

    def _non_slot_variables(self):
        return list(self._non_slot_dict.values())
