"""The Streamlit front end: messages and predictions, through the JSON API at API_URL only."""

from __future__ import annotations

import streamlit as st

from ui import api_client, feedback
from ui.icon import page_icon
from ui.jobs import render_jobs
from ui.messages import render_messages
from ui.predictions import render_predictions
from ui.status import render_status
from ui.text_page import render_text_page

st.set_page_config(page_title="EFS inference", page_icon=page_icon(), layout="wide")

client = api_client.get_client()


def predictions_and_messages() -> None:
    st.title("EFS inference")
    st.caption("Machine-learning inference on AWS Lambda with models on EFS: post messages and ask for predictions.")
    predictions_column, messages_column = st.columns([3, 2], gap="large")
    with predictions_column:
        render_predictions(client)
    with messages_column:
        render_messages(client)
    render_jobs(client)  # on stacks that run async jobs only


def sentence_similarity() -> None:
    render_text_page(client)


pages = [
    st.Page(predictions_and_messages, title="Predictions and messages", default=True),
    st.Page(sentence_similarity, title="Sentence similarity", url_path="sentences"),
]
feedback.begin_page_run()
try:
    with st.sidebar:
        render_status(client)
    st.navigation(pages).run()
finally:
    feedback.end_page_run()
