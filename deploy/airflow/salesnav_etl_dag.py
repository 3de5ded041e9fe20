"""Run salesnav-etl daily from Airflow, as a pod (KubernetesPodOperator).

A scheduled run is incremental: salesnav-etl picks up from its saved cursors
and loads up to yesterday (UTC). A backfill (``airflow dags backfill``) passes
the run's data interval as ``--from``/``--to``: that range is loaded again
without moving the cursors.

Exit codes (see ``salesnav-etl --help``): 1 (failed), 2 (configuration) and
3 (partial) fail the task at once, because a retry would not cure them (the
next scheduled run picks up a partial run's failed streams). 75 ("retry
later": the API quota is spent, LinkedIn's data is delayed, or the pod was
stopped), and anything that is not salesnav-etl's answer (the pod never
started, was evicted or killed for memory), fail the try: Airflow retries.

OpenLineage: where Airflow's OpenLineage provider
(apache-airflow-providers-openlineage) is installed, the pod gets this task's
run as OPENLINEAGE_PARENT_ID, so that salesnav-etl's run (which sends events
when SALESNAV_OPENLINEAGE_URL is set, in the Secret) is linked under the task
in the lineage graph. Without the provider, the variable is not passed.

Needs apache-airflow-providers-cncf-kubernetes, and the Secret of
deploy/kubernetes/secret.example.yaml in the pod's namespace.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

IMAGE = "ghcr.io/salesnav-etl/salesnav-etl:latest"
NAMESPACE = "analytics"
SECRET = "salesnav-etl"

# salesnav-etl's exit codes that no retry cures: failed, configuration,
# partial.
EXIT_FINAL = frozenset({1, 2, 3})

# A backfill run gets its data interval; a scheduled run gets empty values,
# which salesnav-etl reads as "not set" (an incremental run).
FROM_ARG = "--from={{ data_interval_start | ds if dag_run.run_type == 'backfill' else '' }}"
TO_ARG = "--to={{ data_interval_end | ds if dag_run.run_type == 'backfill' else '' }}"


# The task's OpenLineage run, "namespace/dag_id.task_id/run_id", rendered by
# the provider's macro: the parent of salesnav-etl's run.
try:
    import airflow.providers.openlineage  # noqa: F401

    LINEAGE_ENV = [
        k8s.V1EnvVar(
            name="OPENLINEAGE_PARENT_ID",
            value="{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}",
        )
    ]
except ImportError:  # no provider, no macro: the run has no parent
    LINEAGE_ENV = []


def container_exit_code(remote_pod, container: str = "base") -> int | None:
    """The exit code of the pod's container, or None when it has none."""
    status = getattr(remote_pod, "status", None)
    for cs in getattr(status, "container_statuses", None) or []:
        if cs.name == container and cs.state is not None and cs.state.terminated is not None:
            return cs.state.terminated.exit_code
    return None


class SalesNavEtlOperator(KubernetesPodOperator):
    """KubernetesPodOperator that maps salesnav-etl's exit codes: 1, 2 and 3
    fail the task; 75, or a pod that did not run to an answer, fail the try
    (Airflow retries it)."""

    def cleanup(self, pod, remote_pod, *args, **kwargs):
        # The provider calls cleanup(pod=..., remote_pod=..., xcom_result=...,
        # context=...): pass everything through.
        try:
            return super().cleanup(pod, remote_pod, *args, **kwargs)
        except AirflowException as err:
            code = container_exit_code(remote_pod)
            if code in EXIT_FINAL:
                raise AirflowFailException(f"salesnav-etl exited with {code}: {err}") from err
            raise  # retry later: Airflow's retries take it from here


with DAG(
    dag_id="salesnav_etl",
    description="LinkedIn Sales Navigator data into ClickHouse",
    schedule="30 3 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # never two runs at once: they would share export jobs
    default_args={
        "retries": 6,
        "retry_delay": timedelta(minutes=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(hours=6),
    },
    tags=["salesnav", "linkedin"],
) as dag:
    SalesNavEtlOperator(
        task_id="load",
        name="salesnav-etl",
        namespace=NAMESPACE,
        image=IMAGE,
        arguments=["run", FROM_ARG, TO_ARG],
        env_from=[k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name=SECRET))],
        env_vars=[
            k8s.V1EnvVar(name="SALESNAV_SINK", value="clickhouse"),
            k8s.V1EnvVar(name="SALESNAV_LOG_FORMAT", value="json"),
            k8s.V1EnvVar(name="SALESNAV_GRACE_PERIOD", value="25s"),
            k8s.V1EnvVar(name="SALESNAV_PUSHGATEWAY_URL", value="http://prometheus-pushgateway.monitoring:9091"),
            k8s.V1EnvVar(name="GOMEMLIMIT", value="450MiB"),
            *LINEAGE_ENV,
        ],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "500m", "memory": "256Mi"},
            limits={"memory": "512Mi"},
        ),
        termination_grace_period=40,
        get_logs=True,
        on_finish_action="delete_pod",
        execution_timeout=timedelta(hours=6),
    )
