"""One module per problem set: its exercises, visible and hidden cases, mistake catalogue and
written questions (see ``grader.problem_sets``)."""
