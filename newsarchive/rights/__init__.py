"""Rights: what publishers allow (signals read per capture) and what the archive withdrew
(the takedown list), honoured by every reader."""
