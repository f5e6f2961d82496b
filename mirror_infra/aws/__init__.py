"""The small layer every AWS call goes through: the target (AWS or the local AWS), clients with
standard retries, and the one place where AWS error text is matched."""
