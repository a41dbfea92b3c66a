"""The Jobs section under AppTest: hidden where jobs are off; submit a batch, see progress, download."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.ui.example_model import SAMPLES
from tests.ui.fake_jobs import FakeJobs
from ui.job_client import Job

JOB_ID = "j" * 32


def job(status: str, done: int, **extra: object) -> Job:
    return Job(job_id=JOB_ID, status=status, done=done, total=1000, model="digits", version="2", **extra)  # type: ignore[arg-type]


def subheaders(app: AppTest) -> list[str]:
    return [item.value for item in app.subheader]


def test_jobs_are_not_shown_on_a_stack_without_them(app: AppTest, fake_jobs: FakeJobs) -> None:
    """No Jobs section when the API says jobs are off."""
    app.run()
    assert not app.exception
    assert "Jobs" not in subheaders(app)


def test_a_batch_of_sample_copies_is_submitted_and_its_progress_shown(app: AppTest, fake_jobs: FakeJobs) -> None:
    """1,000 copies of the model's samples go to the default model; the progress bar shows the job's state."""
    fake_jobs.enabled = True
    fake_jobs.states = [job("running", 500)]
    app.run()
    assert "Jobs" in subheaders(app)
    app.button(key="job_submit").click().run()
    assert not app.exception
    ((model, inputs),) = fake_jobs.submitted
    assert model == "digits"
    assert len(inputs) == 1000
    assert inputs[: len(SAMPLES)] == [sample.input for sample in SAMPLES]
    (progress,) = app.get("progress")
    assert "running: 500 of 1,000 inputs" in str(progress.proto)


def test_a_finished_job_offers_its_result_and_is_not_polled_again(app: AppTest, fake_jobs: FakeJobs) -> None:
    """A succeeded job shows a download button; once finished, the API is not asked about it again."""
    fake_jobs.enabled = True
    fake_jobs.states = [job("succeeded", 1000, result={"outputs": []})]
    app.run()
    app.button(key="job_submit").click().run()
    calls = fake_jobs.status_calls
    app.run()
    assert not app.exception
    assert app.get("download_button")
    assert fake_jobs.status_calls == calls


def test_a_failed_job_shows_why(app: AppTest, fake_jobs: FakeJobs) -> None:
    """The job's error is shown as it is."""
    fake_jobs.enabled = True
    fake_jobs.states = [job("failed", 0, error="shard 0: attempt 3 of 3 failed: model_unavailable")]
    app.run()
    app.button(key="job_submit").click().run()
    assert any("attempt 3 of 3 failed" in error.value for error in app.error)
