"""The newsroom: articles, parsing, summaries, topics, subscriptions, storage, pipeline."""
