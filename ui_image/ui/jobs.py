"""Jobs: submit a batch bigger than a request can carry (copies of the model's samples, or a JSON
file of inputs), watch its progress, download the result. Shown only on stacks that run jobs."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from ui import job_client
from ui.api_client import ApiClient, ApiError, ModelInfo
from ui.feedback import show_api_error

SAMPLES, FILE = "Copies of the samples", "JSON file"
_JOB_KEY = "job_id"
_AVAILABLE_KEY = "jobs_available"
_FINISHED_KEY = "job_finished"
MAX_COPIES = 100_000


def _batch(model: ModelInfo) -> list[Any] | None:
    """The inputs to submit, or None until there are some."""
    options = [SAMPLES, FILE] if model.samples else [FILE]
    mode = st.segmented_control("Batch", options, default=options[0], key=f"job_mode_{model.name}")
    if mode == SAMPLES:
        count = st.number_input("Inputs", min_value=1, max_value=MAX_COPIES, value=1000, step=500, key="job_count")
        samples = [sample.input for sample in model.samples]
        return [samples[index % len(samples)] for index in range(int(count))]
    upload = st.file_uploader("A JSON list of inputs", type=["json"], key=f"job_file_{model.name}")
    if upload is None:
        return None
    try:
        inputs = json.loads(upload.getvalue())
    except ValueError:
        st.error("That file is not JSON.", icon=":material/error:")
        return None
    if not isinstance(inputs, list) or not inputs:
        st.error("The file must hold a non-empty JSON list of inputs.", icon=":material/error:")
        return None
    return inputs


def _available(client: job_client.JobClient) -> bool:
    if _AVAILABLE_KEY not in st.session_state:
        st.session_state[_AVAILABLE_KEY] = client.available()
    return bool(st.session_state[_AVAILABLE_KEY])


@st.fragment(run_every=1.0)
def _progress(client: job_client.JobClient) -> None:
    """The current job's state, refreshed every second until it has finished."""
    job_id = st.session_state.get(_JOB_KEY)
    if not job_id:
        return
    job = st.session_state.get(_FINISHED_KEY)
    if not (isinstance(job, job_client.Job) and job.job_id == job_id):  # a finished job is not asked again
        try:
            job = client.status(job_id)
        except ApiError as error:
            show_api_error(error, retry_key="retry_job")
            return
        if job.finished:
            st.session_state[_FINISHED_KEY] = job
    st.progress(job.done / job.total if job.total else 0.0, text=f"{job.status}: {job.done:,} of {job.total:,} inputs")
    st.caption(
        f"Job {job.job_id} · model {job.model}, version {job.version} · "
        + " · ".join(f"{name.removesuffix('_at')} {moment}" for name, moment in job.timestamps.items())
    )
    if job.status == "failed":
        st.error(job.error or "The job failed.", icon=":material/error:")
    elif job.status == "succeeded" and job.result is not None:
        st.download_button(
            "Download the result",
            json.dumps(job.result).encode(),
            file_name=f"{job.job_id}.json",
            mime="application/json",
            key="job_download",
            icon=":material/download:",
        )
    elif job.status == "succeeded" and job.result_url:
        st.link_button("Download the result", job.result_url, icon=":material/download:")


def render_jobs(api: ApiClient) -> None:
    client = job_client.for_api(api)
    try:
        if not _available(client):
            return
        catalog = api.list_models()
    except ApiError as error:
        show_api_error(error, retry_key="retry_jobs")
        return
    st.subheader("Jobs")
    st.caption("Batches too big or too slow for one request run as a job: queued, retried, kept for a few days.")
    if not catalog.models:
        st.info("The API has no models yet.", icon=":material/model_training:")
        return
    names = [model.name for model in catalog.models]
    default = names.index(catalog.default_model) if catalog.default_model in names else 0
    name = st.selectbox("Model", names, index=default, key="job_model") or names[default]
    model = catalog.models[names.index(name)]
    inputs = _batch(model)
    if st.button("Submit job", key="job_submit", type="primary", icon=":material/send:", disabled=inputs is None):
        try:
            st.session_state[_JOB_KEY] = client.submit(model.name, inputs or []).job_id
        except ApiError as error:
            st.error(error.message, icon=":material/error:")
    _progress(client)
