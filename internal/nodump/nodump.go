package nodump
