"""The directory as plain data: what a DirectoryUpdate says (model.DirectoryUpdateData), the rules it must
keep (structure), a read-only picture of the directory (model.DirectorySnapshot) and appeal routing over it
(routing). Standard library only."""
