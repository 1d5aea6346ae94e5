"""The conversation's flows, one module each. A flow's handlers take the `Turn` and one string: a
command's arguments, a callback's data after its verb, or the text typed at a step."""
