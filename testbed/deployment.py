"""A local deployment of ``template.yaml``: the stack's resources in moto, the real ASL executed
by moto's Step Functions interpreter, and every Lambda task routed to our handler in-process.

    with LocalDeployment(secrets={"Auth0ConnectionSecret": {...}, ...}) as stack:
        run = stack.execute("IdentityLookupStateMachine", {"okta_user_id": "00u..."})
        assert run.status == "SUCCEEDED"

What is created comes from the template (secrets, DynamoDB tables, S3 buckets, SQS queues,
state machines with their ``DefinitionSubstitutions``, schedules); what each handler sees as its
environment is the template's (``Globals`` merged with the function's own variables). Nothing
about the stack is repeated in the tests.

The Lambda seam: moto's ``LambdaSimpleBackend.invoke`` (used when ``lambda.use_docker`` is off)
is replaced by a dispatcher that maps the function ARN's last segment (the logical id) to the
handler the template names, calls it with a Lambda-like context, and reports an exception the
way Lambda does (``x-amz-function-error`` + ``errorType`` = the exception class name), so the
ASL's ``Retry``/``Catch`` match on our error names. This is an internal moto seam: moto is pinned.

Reserved concurrency: a function whose template sets ``ReservedConcurrentExecutions`` runs at most
that many invocations at once; one more is refused before any handler code runs, as Lambda
refuses it: the Invoke API answers 429 ``TooManyRequestsException``, which a Step Functions task
sees as ``Lambda.TooManyRequestsException`` (moto's interpreter names a Lambda ``ClientError``
``Lambda.<code>``, with no SDK retry in between). A task's invoke is checked before its request
is built, and refused with the same error botocore would raise for that 429 (a queue of throttled
executions retries thousands of times). Throttles are not billed and not in ``invocations``; they
are counted in ``throttles``, and ``peak_in_flight`` keeps the most invocations of each function
seen at once.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import importlib.util
import json
import os
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from .template import ROOT, Template

STATE_PAYLOAD_LIMIT = 256 * 1024  # Step Functions: 256 KiB per state input/output
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


class ReservedConcurrencyExceeded(Exception):
    """An invocation refused because the function's reserved concurrency is all in use (Lambda's
    429 ``TooManyRequestsException``, reason ``ReservedFunctionConcurrentInvocationLimitExceeded``)."""

    def __init__(self, function: str, reserved: int) -> None:
        super().__init__(f"Rate Exceeded. ({function}: reserved concurrency {reserved} in use)")
        self.function = function
        self.reserved = reserved


@dataclass
class Invocation:
    function: str
    duration: float
    error: str | None


@dataclass
class Execution:
    """A finished execution. Its history is read from Step Functions when first asked for (most
    tests never look at it, and reading it through moto costs more CPU than the test bed's whole
    wait); a stack that stops reads the history of every execution still referenced first."""

    arn: str
    name: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    load_history: Callable[[], list[dict[str, Any]]] | None = field(repr=False, compare=False, default=None)
    _history: list[dict[str, Any]] | None = field(init=False, repr=False, compare=False, default=None)

    @property
    def history(self) -> list[dict[str, Any]]:
        if self._history is None:
            load, self.load_history = self.load_history, None
            self._history = load() if load is not None else []
        return self._history

    @property
    def transitions(self) -> int:
        """State transitions, as Standard workflows bill them (one per state entered)."""
        return sum(1 for e in self.history if e["type"].endswith("StateEntered"))

    @property
    def retries(self) -> int:
        """Task attempts beyond the first of each state entered (``Retry``): AWS bills each retry as
        a state transition, though the history enters the state only once."""
        scheduled = sum(1 for e in self.history if e["type"] in ("LambdaFunctionScheduled", "TaskScheduled"))
        return max(0, scheduled - sum(1 for e in self.history if e["type"] == "TaskStateEntered"))

    @property
    def billed_transitions(self) -> int:
        """State transitions as billed: every state entered, and every retry."""
        return self.transitions + self.retries

    @property
    def cause_message(self) -> str | None:
        """The ``errorMessage`` inside a Lambda error cause (or the raw cause)."""
        from okta_auth0_sync.base.errors import cause_message

        return cause_message(self.cause)


@functools.lru_cache(maxsize=32)
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    """boto3 clients for the test bed's own calls, shared by every stack of the process (moto
    intercepts by service and region; creating a client costs ~50 ms of CPU)."""
    import boto3

    if endpoint_url:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    return boto3.client(service, region_name=region)


@functools.lru_cache(maxsize=64)
def _handler_code(path: str, mtime_ns: int, size: int) -> CodeType:
    """A handler module's code, compiled once per file version: every simulated container runs it
    afresh, and with no bytecode cache (``PYTHONDONTWRITEBYTECODE``) each load compiled it again."""
    return compile(Path(path).read_bytes(), path, "exec", dont_inherit=True)


class FakeContext:
    """What a handler reads off the Lambda context."""

    def __init__(self, function_name: str, timeout: float, memory: int, region: str, account: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalDeployment:
    def __init__(
        self,
        secrets: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        parameters: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        template_path: Path | None = None,
        cold_start_every_invocation: bool = False,
        endpoint_url: str | None = None,
        stack_name: str = "okta-auth0-sync-test",
    ) -> None:
        params = {"OktaDomain": "sandbox.okta.test", "Auth0Domain": "sandbox.auth0.test"}
        params.update(parameters or {})
        self.template = Template.load(template_path or ROOT / "template.yaml", params, stack_name=stack_name)
        self._secret_values = dict(secrets or {})
        self._env_overrides = dict(env or {})
        self.cold_start_every_invocation = cold_start_every_invocation
        # Server mode: the resources go to a running moto server (for sam local); nothing is
        # mocked in this process and no Lambda task is routed here.
        self.endpoint_url = endpoint_url
        self.invocations: list[Invocation] = []
        self.payload_violations: list[str] = []
        self._idle: dict[str, list[ModuleType]] = {}
        self._limits: dict[str, tuple[float, int]] = {}
        self._reserved: dict[str, int | None] = {}
        self._in_flight: dict[str, int] = {}
        self.peak_in_flight: dict[str, int] = {}
        self._throttled: collections.deque[str] = collections.deque()  # one entry per refusal
        self._clients: dict[str, Any] = {}
        self._saved_env: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._mock = None
        self._original_invoke = None
        self._original_task_invoke: Callable[..., Any] | None = None
        self._seams: contextlib.ExitStack | None = None
        self._unread_histories: list[weakref.ref[Execution]] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalDeployment:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if self.endpoint_url:
            self._create_resources()
            return
        from moto import mock_aws

        self._set_env(
            {
                "AWS_DEFAULT_REGION": self.template.region,
                "AWS_REGION": self.template.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_ENDPOINT_URL": None,
                "POWERTOOLS_TRACE_DISABLED": "1",
                "POWERTOOLS_DEV": None,
            }
        )
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        from . import fidelity

        with fidelity.requests_routes_not_registered():
            self._mock.start()

        self._seams = contextlib.ExitStack()
        for seam in (
            fidelity.atomic_dynamodb_items,
            fidelity.boto3_clients_built_one_at_a_time,
            fidelity.requests_library_unpatched,
            fidelity.faster_step_functions,
            fidelity.task_attempts_on_reused_threads,
            fidelity.moto_operation_models_race_free,
            fidelity.step_functions_errors_as_aws,
            fidelity.powertools_state_per_invocation,
            fidelity.execution_ends_announced,
        ):
            self._seams.enter_context(seam())
        self._install_lambda_seam()
        self._create_resources()
        self._set_env(self.function_environment())
        self._set_env(self._env_overrides)
        self.cold_start()

    def drain(self, timeout: float = 60.0) -> None:
        """Wait for every running execution to finish, so that none keeps calling the tenants (and
        counting calls) after its test. Started executions run in moto's threads."""
        if self._mock is None:
            return
        sfn = self.client("stepfunctions")
        for logical_id in self.template.of_type("AWS::Serverless::StateMachine"):
            running = sfn.list_executions(stateMachineArn=self.ref(logical_id), statusFilter="RUNNING")
            for execution in running.get("executions", []):
                self.wait(execution["executionArn"], timeout, history=False)

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # stopping must not fail on a stuck execution
            self.drain()
        self._read_histories_still_referenced()
        self.cold_start()
        if self._original_invoke is not None:
            from moto.awslambda_simple.models import LambdaSimpleBackend

            LambdaSimpleBackend.invoke = self._original_invoke
            self._original_invoke = None
        if self._original_task_invoke is not None:
            from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

            lambda_eval_utils._invoke_lambda_function = self._original_task_invoke
            self._original_task_invoke = None
        self._clients.clear()
        if self._seams is not None:
            self._seams.close()
            self._seams = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def _read_histories_still_referenced(self) -> None:
        """Histories live in moto, which stops with the stack: read them for every execution a
        caller still holds (a test's own executions are gone by the time its stack stops)."""
        refs, self._unread_histories = self._unread_histories, []
        for ref in refs:
            run = ref()
            if run is not None:
                run.history  # noqa: B018 (reads it while moto still has it)

    def _set_env(self, values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    # -- AWS clients -------------------------------------------------------------------------
    def client(self, service: str):
        """One boto3 client per service for the test bed's own calls (clients are thread-safe;
        creating one costs ~50 ms of CPU)."""
        with self._lock:
            existing = self._clients.get(service)
            if existing is None:
                existing = self._clients[service] = self._new_client(service)
            return existing

    def _new_client(self, service: str):
        return _client(service, self.template.region, self.endpoint_url)

    # -- resources ---------------------------------------------------------------------------
    def _create_resources(self) -> None:
        t = self.template
        sm = self.client("secretsmanager")
        for logical_id, res in t.of_type("AWS::SecretsManager::Secret").items():
            props = t.resolve(res.get("Properties", {}))
            value = self._secret_values.get(logical_id)
            secret_string = json.dumps(value) if value is not None else props.get("SecretString", "{}")
            created = sm.create_secret(
                Name=props.get("Name", f"{t.stack_name}/{logical_id}"), SecretString=secret_string
            )
            t.refs[logical_id] = created["ARN"]
        ddb = self.client("dynamodb")
        for logical_id, res in t.of_type("AWS::DynamoDB::Table").items():
            props = t.resolve(res["Properties"])
            name = props.get("TableName", f"{t.stack_name}-{logical_id}")
            kwargs = {
                k: props[k]
                for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                if k in props
            }
            ddb.create_table(TableName=name, BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"), **kwargs)
            if props.get("TimeToLiveSpecification"):
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
            t.refs[logical_id] = name
        s3 = self.client("s3")
        for logical_id, res in t.of_type("AWS::S3::Bucket").items():
            props = t.resolve(res.get("Properties", {}))
            name = props.get("BucketName", f"{t.stack_name}-{logical_id}".lower())
            s3.create_bucket(Bucket=name)
            t.refs[logical_id] = name
        sqs = self.client("sqs")
        for logical_id, res in t.of_type("AWS::SQS::Queue").items():
            props = t.resolve(res.get("Properties", {}))
            url = sqs.create_queue(QueueName=props.get("QueueName", f"{t.stack_name}-{logical_id}"))["QueueUrl"]
            t.refs[logical_id] = url
            t.attrs[(logical_id, "Arn")] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            t.attrs[(logical_id, "QueueName")] = url.rsplit("/", 1)[-1]
        sfn = self.client("stepfunctions")
        for logical_id, res in t.of_type("AWS::Serverless::StateMachine").items():
            props = res["Properties"]
            definition = (ROOT / props["DefinitionUri"]).read_text()
            for key, value in t.resolve(props.get("DefinitionSubstitutions", {})).items():
                definition = definition.replace("${" + key + "}", str(value))
            name = t.resolve(props["Name"]) if "Name" in props else f"{t.stack_name}-{logical_id}"
            arn = sfn.create_state_machine(
                name=name,
                definition=definition,
                type=props.get("Type", "STANDARD"),
                roleArn=f"arn:aws:iam::{t.account}:role/{logical_id}Role",
            )["stateMachineArn"]
            t.refs[logical_id] = arn
            t.attrs[(logical_id, "Arn")] = arn
            t.attrs[(logical_id, "Name")] = name

    def function_environment(self) -> dict[str, str]:
        """The union of every function's environment. Names are shared by design, so the union
        must not disagree; if it did, handlers could not share one process."""
        env: dict[str, str] = {}
        for logical_id in self.template.of_type("AWS::Serverless::Function"):
            variables = self.template.resolve(
                self.template.function(logical_id).get("Environment", {}).get("Variables", {})
            )
            for key, value in variables.items():
                if value is None:  # AWS::NoValue: the variable is not set at all
                    continue
                value = str(value)
                if key in env and env[key] != value:
                    raise ValueError(
                        f"environment variable {key} differs between functions; "
                        "the test bed runs all handlers in one process"
                    )
                env[key] = value
        return env

    def put_secret(self, logical_id: str, value: Mapping[str, Any]) -> None:
        self.client("secretsmanager").put_secret_value(
            SecretId=self.template.refs[logical_id], SecretString=json.dumps(value)
        )

    def ref(self, logical_id: str) -> str:
        return self.template.refs.get(logical_id) or self.template.ref(logical_id)

    # -- Lambda ------------------------------------------------------------------------------
    def cold_start(self) -> None:
        """Forget what warm containers remember (in-memory token copies, clients, secrets cache)."""
        from okta_auth0_sync.base import container

        container.new_container()

    def _load_container(self, logical_id: str) -> ModuleType:
        """A fresh copy of the function's handler module: one Lambda container's globals."""
        props = self.template.function(logical_id)
        module_name, func = props["Handler"].rsplit(".", 1)
        path = ROOT / props["CodeUri"] / (module_name.replace(".", "/") + ".py")
        spec = importlib.util.spec_from_file_location(f"lambda_{logical_id}", path)
        module = importlib.util.module_from_spec(spec)
        stat = path.stat()
        # What the loader's exec_module does, with the code compiled once (a container is a fresh module).
        exec(_handler_code(str(path), stat.st_mtime_ns, stat.st_size), module.__dict__)  # noqa: S102
        module.__dict__["__handler_name__"] = func
        return module

    def _acquire(self, logical_id: str) -> ModuleType:
        """An idle container of the function, or a new one: like Lambda, a container serves one
        invocation at a time, so concurrent invocations each get their own handler globals."""
        with self._lock:
            idle = self._idle.setdefault(logical_id, [])
            if idle:
                return idle.pop()
        return self._load_container(logical_id)

    def _release(self, logical_id: str, module: ModuleType) -> None:
        with self._lock:
            self._idle.setdefault(logical_id, []).append(module)

    def handler(self, logical_id: str) -> Callable[[dict, Any], Any]:
        """The handler of one (idle) container, for a caller that invokes it itself."""
        module = self._acquire(logical_id)
        self._release(logical_id, module)
        return getattr(module, module.__dict__["__handler_name__"])

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke a function directly (as API Gateway or an engineer's ``sam local invoke`` would).
        Exceptions propagate."""
        timeout, memory = self._function_limits(logical_id)
        self._enter(logical_id)
        try:
            if self.cold_start_every_invocation:
                self.cold_start()
            context = FakeContext(logical_id, timeout, memory, self.template.region, self.template.account)
            started = time.perf_counter()
            error = None
            module = self._acquire(logical_id)
            try:
                return getattr(module, module.__dict__["__handler_name__"])(event, context)
            except Exception as exc:
                error = type(exc).__name__
                raise
            finally:
                self._release(logical_id, module)
                with self._lock:
                    self.invocations.append(Invocation(logical_id, time.perf_counter() - started, error))
        finally:
            with self._lock:
                self._in_flight[logical_id] -= 1

    def reserved_concurrency(self, logical_id: str) -> int | None:
        """The function's ``ReservedConcurrentExecutions`` (parameters resolved), or None."""
        if logical_id not in self._reserved:
            value = self.template.resolve(self.template.function(logical_id).get("ReservedConcurrentExecutions"))
            self._reserved[logical_id] = None if value is None else int(value)
        return self._reserved[logical_id]

    def _enter(self, logical_id: str) -> None:
        """Take one of the function's concurrent executions, or be throttled as Lambda throttles."""
        reserved = self.reserved_concurrency(logical_id)
        with self._lock:
            refused = self._refusal(logical_id, reserved)
            if refused is not None:
                raise refused
            running = self._in_flight.get(logical_id, 0) + 1
            self._in_flight[logical_id] = running
            self.peak_in_flight[logical_id] = max(self.peak_in_flight.get(logical_id, 0), running)

    @property
    def throttles(self) -> dict[str, int]:
        """Refused invocations so far, by function."""
        return dict(collections.Counter(list(self._throttled)))

    def _refusal(self, logical_id: str, reserved: int | None) -> ReservedConcurrencyExceeded | None:
        """Lambda's refusal, counted as a throttle, if every reserved execution of the function is in
        use. Takes no lock (a deque append is atomic): a burst's throttled attempts, thousands a
        minute, queued on one lock and each handover waited for the interpreter lock."""
        if reserved is None or self._in_flight.get(logical_id, 0) < reserved:
            return None
        self._throttled.append(logical_id)
        return ReservedConcurrencyExceeded(logical_id, reserved)

    def _function_limits(self, logical_id: str) -> tuple[float, int]:
        """The function's timeout and memory (``Globals`` merged in), read once per stack."""
        limits = self._limits.get(logical_id)
        if limits is None:
            props = self.template.function(logical_id)
            limits = self._limits[logical_id] = (float(props.get("Timeout", 3)), int(props.get("MemorySize", 128)))
        return limits

    def _install_lambda_seam(self) -> None:
        from moto.awslambda.exceptions import LambdaClientError
        from moto.awslambda_simple.models import LambdaSimpleBackend

        class _TooManyRequests(LambdaClientError):
            code = 429

            def __init__(self, message: str) -> None:
                super().__init__("TooManyRequestsException", message)

        deployment = self
        self._original_invoke = LambdaSimpleBackend.invoke

        def invoke(backend, function_name, qualifier, body, headers, response_headers):
            logical_id = function_name.split(":")[-1]
            raw = body.decode() if isinstance(body, bytes) else (body or "{}")
            if len(raw.encode()) > STATE_PAYLOAD_LIMIT:
                deployment.payload_violations.append(f"{logical_id} input {len(raw)} bytes")
            try:
                result = deployment.invoke(logical_id, json.loads(raw) if raw else {})
            except ReservedConcurrencyExceeded as exc:
                # Not a function error: the Invoke API itself answers 429 (no handler ran).
                raise _TooManyRequests(str(exc)) from None
            except Exception as exc:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(
                    {
                        "errorType": type(exc).__name__,
                        "errorMessage": str(exc),
                        "requestId": str(uuid.uuid4()),
                        "stackTrace": traceback.format_tb(exc.__traceback__)[-3:],
                    }
                ).encode()
            payload = json.dumps(result).encode()
            if len(payload) > min(STATE_PAYLOAD_LIMIT, LAMBDA_RESPONSE_LIMIT):
                deployment.payload_violations.append(f"{logical_id} output {len(payload)} bytes")
            return payload

        LambdaSimpleBackend.invoke = invoke
        self._install_throttle_shortcut()

    def _install_throttle_shortcut(self) -> None:
        """A task's invoke that Lambda would refuse for reserved concurrency is refused before the
        request is built, with the error botocore would have raised for the 429 (same code,
        message and status, so the same ``Lambda.TooManyRequestsException`` and cause). A queue
        of throttled executions retries thousands of times; the botocore round trip through moto
        was most of each retry's CPU. A task that passes the check is invoked as before (and may
        still be refused there, if another took the last slot meanwhile)."""
        from botocore.exceptions import ClientError
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        deployment, original = self, lambda_eval_utils._invoke_lambda_function

        def invoke_unless_throttled(parameters: dict, region: str, state_credentials: Any) -> Any:
            refused = deployment._throttle_now(str(parameters.get("FunctionName", "")).split(":")[-1])
            if refused is not None:
                metadata = {"HTTPStatusCode": 429, "RequestId": str(uuid.uuid4())}
                error = {"Code": "TooManyRequestsException", "Message": str(refused)}
                raise ClientError({"Error": error, "ResponseMetadata": metadata}, "Invoke")
            return original(parameters, region, state_credentials)

        lambda_eval_utils._invoke_lambda_function = invoke_unless_throttled
        self._original_task_invoke = original

    def _throttle_now(self, logical_id: str) -> ReservedConcurrencyExceeded | None:
        """:meth:`_refusal` for a task's invoke, before its request is built: a read of the
        functions in flight at that moment, as Lambda's own admission is. An invocation it lets
        through is still admitted or refused under the lock by :meth:`_enter`."""
        if logical_id not in self.template.resources:
            return None
        return self._refusal(logical_id, self.reserved_concurrency(logical_id))

    # -- Step Functions ----------------------------------------------------------------------
    def start_execution(self, state_machine: str, payload: Any, name: str | None = None) -> str:
        # Step Functions names an execution with a UUID when no name is given (moto would use "None").
        return self.client("stepfunctions").start_execution(
            stateMachineArn=self.ref(state_machine), input=json.dumps(payload), name=name or str(uuid.uuid4())
        )["executionArn"]

    def execution_arn(self, state_machine: str, name: str) -> str:
        """The ARN an execution of ``state_machine`` named ``name`` has (Step Functions' scheme)."""
        return self.ref(state_machine).replace(":stateMachine:", ":execution:") + ":" + name

    def schedule(self, state_machine: str, event: str) -> dict[str, Any]:
        """A ScheduleV2 event of a state machine, resolved (expression, state, input...)."""
        spec = self.template.resources[state_machine]["Properties"]["Events"][event]
        assert spec["Type"] == "ScheduleV2", f"{state_machine}.{event} is not a ScheduleV2 event"
        return self.template.resolve(spec["Properties"])

    def fire_schedule(self, state_machine: str, event: str, scheduled_time: str | None = None) -> str:
        """Do what EventBridge Scheduler does on a tick: start the target with the schedule's input,
        its context attributes filled in (``<aws.scheduler.scheduled-time>``)."""
        spec = self.schedule(state_machine, event)
        when = scheduled_time or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        payload = spec.get("Input", "{}").replace("<aws.scheduler.scheduled-time>", when)
        return self.start_execution(state_machine, json.loads(payload))

    def wait(self, execution_arn: str, timeout: float = 120.0, *, history: bool = True) -> Execution:
        from . import fidelity

        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        pause = 0.01
        while True:
            ended = fidelity.executions_ended()
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            left = deadline - time.monotonic()
            if left < 0:
                raise TimeoutError(f"execution {execution_arn} still RUNNING after {timeout}s")
            if self._mock is not None:  # moto in this process announces every end (fidelity.py)
                fidelity.wait_for_an_execution_end(ended, min(0.5, left))
            else:
                time.sleep(pause)
                pause = min(pause * 1.5, 0.2)
        output = described.get("output")
        name = described.get("name") or execution_arn.rsplit(":", 1)[-1]
        run = Execution(
            arn=execution_arn,
            name=name,
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            load_history=functools.partial(self._history, execution_arn) if history else None,
        )
        if history:
            self._unread_histories.append(weakref.ref(run))
        return run

    def execute(self, state_machine: str, payload: Any, name: str | None = None, timeout: float = 120.0) -> Execution:
        run = self.wait(self.start_execution(state_machine, payload, name), timeout)
        if self.payload_violations:
            raise AssertionError(f"Step Functions payload limit exceeded: {self.payload_violations}")
        return run

    def executions(self, state_machine: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        return sfn.list_executions(stateMachineArn=self.ref(state_machine))["executions"]

    def wait_all(self, state_machine: str, timeout: float = 120.0) -> dict[str, Execution]:
        """Every execution of a state machine, finished: ``{name: Execution}``."""
        runs = {e["name"]: self.wait(e["executionArn"], timeout) for e in self.executions(state_machine)}
        if self.payload_violations:
            raise AssertionError(f"Step Functions payload limit exceeded: {self.payload_violations}")
        return runs

    def _history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events, token = [], None
        while True:
            kwargs = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events
