"""The command watch over streamed session logs: decode, extract, judge, act (``service``)."""
