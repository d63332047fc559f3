"""Where the gradient goes: norms against lag, the LSTM's cell path, what the gates do,
echo-state reservoirs.

Modules: decay, cell_paths, lstm_gates, gru_gates, echo_state.
"""
