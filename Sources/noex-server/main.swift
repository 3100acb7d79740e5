// noex-server executable entry point (CLI to come with the transport and protocol issues).
print("noex-server: not yet runnable")
