package y

func Read() {}

func Write() {}
