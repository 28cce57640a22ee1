"""Ray and the cluster for ``stance score --engine ray``: connecting to Ray (:func:`connect_ray`;
:func:`unanswered` says in seconds that nothing listens at an address), the scoring stage's actor pool on the
cluster's nodes (:func:`plan_actors`, :func:`actor_options`, :func:`actor_pool_args`, with a bounded number of
restarts and retries) and the errors of a Ray run (:class:`RayRunError`, :class:`RayConnectError`). Ray itself
is imported inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stance.run.local import auto_workers_for, decide_backend
from stance.run.options import ScoreOptions

# A scoring actor that dies (out of memory, a lost node) is restarted at most ACTOR_MAX_RESTARTS times and
# the batch it ran is retried at most ACTOR_TASK_RETRIES times; then the run stops. Ray Data's defaults (-1)
# retry forever: a batch whose article kills its actor would reload the model and hang the run, silently.
ACTOR_MAX_RESTARTS = 2
ACTOR_TASK_RETRIES = 2


class RayRunError(RuntimeError):
    """A Ray run that could not finish; the message says why and what to do."""


class RayConnectError(RayRunError):
    """Ray could not be started or reached at ``--address``; nothing was written."""


def connect_ray(address: str | None) -> bool:
    """Connect this process to Ray at ``address`` (None starts a local Ray) unless it is connected
    already; True when it connected here (the caller then shuts Ray down). A Ray that cannot be
    started or reached is a :class:`RayConnectError`.

    Example:
        >>> started_here = connect_ray("auto")  # doctest: +SKIP
    """
    import ray

    if ray.is_initialized():
        return False
    if address not in (None, "auto", "local") and (silent := unanswered(address)):
        raise RayConnectError(f"cannot connect to Ray at --address {address}: {silent}")
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except (OSError, RuntimeError) as exc:  # ConnectionError, TimeoutError; RuntimeError for a node that never registers
        what = "start a local Ray" if address is None else f"connect to Ray at --address {address}"
        hint = (
            " (no Ray cluster runs on this machine? `ray status` says; `ray start --head` starts one)"
            if address == "auto"
            else ""
        )
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RayConnectError(f"cannot {what}{hint}: {reason}") from None
    return True


def unanswered(address: str, timeout: float = 5.0) -> str | None:
    """Why nothing answers at a Ray ``address`` (``host:port`` or ``ray://host:port``), or None when something
    does (or the address names no port to try). Checked before ``ray.init``, which retries an address that does
    not answer for minutes.

    Example:
        >>> "nothing answers at 127.0.0.1:1" in unanswered("127.0.0.1:1")
        True
    """
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return None
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return None
    except OSError as exc:
        return (
            f"nothing answers at {host}:{port} ({exc.strerror or exc}; is the head node running? `ray start --head` starts one)"
        )


@dataclass(frozen=True)
class ActorPlan:
    """The scoring stage on a cluster: ``per_node`` actors on each of ``nodes`` nodes, each asking for
    ``actor_cpus`` CPUs and running ``threads`` threads; ``partitions`` for the duplicate-id groupby.

    Example:
        >>> plan = plan_actors([16.0, 16.0])
        >>> plan.actors, plan.threads
        (8, 4)
    """

    nodes: int
    per_node: int
    actor_cpus: float
    threads: int
    partitions: int

    @property
    def actors(self) -> int:
        """Actors in the whole pool."""
        return self.per_node * self.nodes


def plan_actors(node_cpus: Sequence[float], actors_per_node: int = 0) -> ActorPlan:
    """The actor plan for nodes of ``node_cpus`` CPUs (``actors_per_node`` 0: :func:`auto_workers_for`
    the smallest node). Leaves a CPU per node for the repartition tasks and 0.5 for reading and writing."""
    if not node_cpus:
        raise RayRunError("the Ray cluster has no live node with a CPU to run the scoring actors")
    smallest = min(node_cpus)
    per_node = actors_per_node or auto_workers_for(smallest)
    return ActorPlan(
        nodes=len(node_cpus),
        per_node=per_node,
        actor_cpus=max(0.1, (smallest - 1.5) / per_node),
        threads=max(1, int(smallest // per_node)),
        partitions=max(1, int(sum(node_cpus))),
    )


def actor_options(options: ScoreOptions, plan: ActorPlan) -> ScoreOptions:
    """The options every scoring actor gets: ``--backend auto`` decided once, here on the driver, for
    the actors' thread count (:func:`stance.run.local.decide_backend`, as the local engine does for
    its workers), so that the whole collection is scored by one backend, the one run.json records."""
    return decide_backend(options, plan.threads)


def actor_pool_args(plan: ActorPlan) -> dict[str, Any]:
    """The ``map_batches`` arguments of the scoring stage's actor pool: its size, CPUs per actor and
    the bounded fault tolerance (:data:`ACTOR_MAX_RESTARTS`, :data:`ACTOR_TASK_RETRIES`)."""
    import ray.data

    # Ray Data takes the two limits only as extra remote arguments of map_batches (a RayDeprecationWarning
    # since Ray 2.60, with no named parameter to use instead yet); without them it retries forever

    return {
        "compute": ray.data.ActorPoolStrategy(size=plan.actors),
        "num_cpus": plan.actor_cpus,
        "max_restarts": ACTOR_MAX_RESTARTS,
        "max_task_retries": ACTOR_TASK_RETRIES,
    }
