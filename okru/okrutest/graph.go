package okrutest

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// referenceTime anchors every date in the graph (birthdays, ages, topic and
// group times, last_online), so that a seed gives the same graph on any day.
var referenceTime = time.Date(2025, time.January, 1, 12, 0, 0, 0, time.UTC)

// Id families. Ids grow with the index and have random low digits, like
// ok.ru's; the stride keeps them unique. Some users and groups get ids above
// 2^53, which a float64 cannot hold, to catch clients that parse ids as
// JSON numbers.
const (
	idStride       = 1_000_003
	userIDBase     = 500_000_000_000       // 12+ digits
	bigIDBase      = 1<<53 + 1             // 16 digits, not representable as float64
	groupIDBase    = 50_000_000_000_000    // 14 digits
	bigGroupIDBase = 1<<53 + 1_000_000_000 // 16 digits
	albumIDBase    = 900_000_000_000
	topicIDBase    = 150_000_000_000_000
)

// demoIndex is the graph index of the demo user. The demo user has friends
// 1..demoFixedFriends and belongs to groups 0..demoGroups-1, so tests can rely
// on a non-empty neighbourhood whatever the seed.
const (
	demoIndex        = 0
	demoFixedFriends = 12
	demoGroups       = 3
	bigGroupSize     = 450 // members of group 0, capped by the user count
)

// graph is the seeded social graph. It is built once and never changes, so it
// is read without locks; the state that calls create lives in Server.
type graph struct {
	users      []user
	byUID      map[string]int32
	friends    [][]int32 // sorted, symmetric
	groups     []group
	byGID      map[string]int32
	byShort    map[string]int32 // group shortname -> index
	userGroups [][]int32        // groups of each user, in join order
	albums     []album
	topics     []topic
	byTopic    map[string]int32
	// Per-group counts for group.getCounters.
	groupTopics []int // seeded topics
	groupAlbums []int
	groupPhotos []int
}

type user struct {
	uid        string
	first      string
	last       string
	gender     string // "male" or "female"
	birthday   time.Time
	city       int    // index into cities
	online     string // "", "web" or "mobile"
	lastOnline time.Time
	appUser    bool // has "installed" the sandbox app
	locale     string
}

func (u *user) name() string { return u.first + " " + u.last }

// age in whole years at referenceTime.
func (u *user) age() int {
	y := referenceTime.Year() - u.birthday.Year()
	if referenceTime.YearDay() < u.birthday.YearDay() {
		y--
	}
	return y
}

// Member statuses as group.getMembers names them.
const (
	statusAdmin     = "ADMIN"
	statusModerator = "MODERATOR"
	statusActive    = "ACTIVE"
)

type member struct {
	user   int32
	status string
}

type group struct {
	gid         string
	name        string
	description string
	shortname   string
	created     time.Time
	members     []member // in join order: the order group.getMembers pages through
	memberIdx   map[int32]struct{}
}

func (g *group) isMember(u int32) bool { _, ok := g.memberIdx[u]; return ok }

type album struct {
	aid    string
	title  string
	user   int32 // owner user, or -1
	group  int32 // owner group, or -1
	photos int
}

type topic struct {
	id      string
	user    int32 // owner user, or -1
	group   int32 // owner group, or -1
	author  int32
	created time.Time
	text    string
}

type city struct{ name, countryCode, country, countryName string }

var cities = []city{
	{"Москва", "RU", "RUSSIAN_FEDERATION", "Россия"},
	{"Санкт-Петербург", "RU", "RUSSIAN_FEDERATION", "Россия"},
	{"Новосибирск", "RU", "RUSSIAN_FEDERATION", "Россия"},
	{"Екатеринбург", "RU", "RUSSIAN_FEDERATION", "Россия"},
	{"Казань", "RU", "RUSSIAN_FEDERATION", "Россия"},
	{"Нижний Новгород", "RU", "RUSSIAN_FEDERATION", "Россия"},
	{"Минск", "BY", "BELARUS", "Беларусь"},
	{"Алматы", "KZ", "KAZAKHSTAN", "Казахстан"},
	{"Ташкент", "UZ", "UZBEKISTAN", "Узбекистан"},
}

var (
	maleNames = []string{"Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья",
		"Кирилл", "Михаил", "Никита", "Иван", "Евгений", "Владимир", "Олег", "Павел"}
	femaleNames = []string{"Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина",
		"Светлана", "Юлия", "Дарья", "Алина", "Ксения", "Полина", "Виктория", "Софья"}
	// Male forms; every one takes "а" for the female form.
	lastNames = []string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
		"Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов",
		"Козлов", "Степанов", "Николаев"}
	themes = []struct{ name, slug string }{
		{"Рыбалка", "fishing"}, {"Кулинария", "cooking"}, {"Путешествия", "travel"}, {"Сад и огород", "garden"},
		{"Фотография", "photo"}, {"Футбол", "football"}, {"Шахматы", "chess"}, {"Кино", "cinema"},
		{"Музыка", "music"}, {"Рукоделие", "handmade"}, {"Автомобили", "cars"}, {"История", "history"},
	}
	topicPhrases = []string{"Всем привет!", "Делимся новостями.", "Кто был на выходных?", "Фото с прогулки.",
		"Рецепт дня.", "Вопрос к знатокам.", "Спасибо всем за встречу!", "Анонс следующей недели.",
		"Итоги голосования.", "Полезная ссылка внутри."}
)

// buildGraph builds the graph of n users from seed. The same seed and size
// always give the same graph.
func buildGraph(seed uint64, n int) *graph {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &graph{}
	g.buildUsers(rnd, n)
	g.buildFriends(rnd)
	g.buildGroups(rnd)
	g.buildAlbums(rnd)
	g.buildTopics(rnd)
	return g
}

func idAt(rnd *rand.Rand, base uint64, i int) string {
	return strconv.FormatUint(base+uint64(i)*idStride+rnd.Uint64N(idStride), 10)
}

// bigIDAt is idAt for ids above 2^53 that a float64 cannot hold: above 2^53
// float64 holds only even integers, so these ids are odd.
func bigIDAt(rnd *rand.Rand, base uint64, i int) string {
	return strconv.FormatUint((base+uint64(i)*idStride+rnd.Uint64N(idStride-1))|1, 10)
}

func (g *graph) buildUsers(rnd *rand.Rand, n int) {
	g.users = make([]user, n)
	g.byUID = make(map[string]int32, n)
	for i := range g.users {
		u := &g.users[i]
		if i%10 == 3 {
			u.uid = bigIDAt(rnd, bigIDBase, i)
		} else {
			u.uid = idAt(rnd, userIDBase, i)
		}
		last := lastNames[rnd.IntN(len(lastNames))]
		if rnd.IntN(2) == 0 {
			u.gender, u.first, u.last = "male", maleNames[rnd.IntN(len(maleNames))], last
		} else {
			u.gender, u.first, u.last = "female", femaleNames[rnd.IntN(len(femaleNames))], last+"а"
		}
		age := 14 + rnd.IntN(66)
		u.birthday = referenceTime.AddDate(-age, 0, -rnd.IntN(365)).Truncate(24 * time.Hour)
		u.city = rnd.IntN(len(cities))
		switch r := rnd.IntN(10); {
		case r < 2:
			u.online = "web"
		case r < 4:
			u.online = "mobile"
		}
		u.lastOnline = referenceTime.Add(-time.Duration(rnd.IntN(30*24*3600)) * time.Second)
		if u.online != "" {
			u.lastOnline = referenceTime
		}
		u.appUser = i == demoIndex || rnd.IntN(3) == 0
		u.locale = "ru"
		if rnd.IntN(8) == 0 {
			u.locale = "en"
		}
		g.byUID[u.uid] = int32(i)
	}
}

func (g *graph) buildFriends(rnd *rand.Rand) {
	n := len(g.users)
	adj := make([][]int32, n)
	link := func(a, b int) {
		if a != b {
			adj[a] = append(adj[a], int32(b))
			adj[b] = append(adj[b], int32(a))
		}
	}
	for i := 1; i <= min(demoFixedFriends, n-1); i++ {
		link(demoIndex, i)
	}
	for range min(24, n) {
		link(demoIndex, rnd.IntN(n))
	}
	maxDeg := min(n-1, 16)
	for i := range n {
		for range 1 + rnd.IntN(maxDeg) {
			link(i, rnd.IntN(n))
		}
	}
	for i := range adj {
		slices.Sort(adj[i])
		adj[i] = slices.Clip(slices.Compact(adj[i]))
	}
	g.friends = adj
}

func (g *graph) buildGroups(rnd *rand.Rand) {
	n := len(g.users)
	count := max(4, n/25)
	g.groups = make([]group, count)
	g.byGID = make(map[string]int32, count)
	g.byShort = make(map[string]int32, count)
	g.userGroups = make([][]int32, n)
	for i := range g.groups {
		gr := &g.groups[i]
		if i%7 == 4 {
			gr.gid = bigIDAt(rnd, bigGroupIDBase, i)
		} else {
			gr.gid = idAt(rnd, groupIDBase, i)
		}
		th := themes[rnd.IntN(len(themes))]
		c := cities[rnd.IntN(len(cities))]
		gr.name = th.name + " — " + c.name
		gr.description = "Сообщество «" + gr.name + "»: новости, встречи и обсуждения."
		gr.shortname = th.slug + strconv.Itoa(i)
		gr.created = referenceTime.AddDate(0, 0, -30-rnd.IntN(3000))
		var size int
		switch {
		case i == 0:
			size = min(n, bigGroupSize)
		case i < demoGroups:
			size = min(n, 20+rnd.IntN(80))
		default:
			size = min(n, 2+rnd.IntN(60))
		}
		picked := sample(rnd, n, size, i < demoGroups)
		gr.members = make([]member, len(picked))
		gr.memberIdx = make(map[int32]struct{}, len(picked))
		for j, u := range picked {
			st := statusActive
			switch {
			case j == 0:
				st = statusAdmin
			case j <= 2:
				st = statusModerator
			}
			gr.members[j] = member{user: u, status: st}
			gr.memberIdx[u] = struct{}{}
			g.userGroups[u] = append(g.userGroups[u], int32(i))
		}
		g.byGID[gr.gid] = int32(i)
		g.byShort[gr.shortname] = int32(i)
	}
}

// sample picks k distinct user indexes out of n in random order; withDemo
// puts the demo user among them.
func sample(rnd *rand.Rand, n, k int, withDemo bool) []int32 {
	if k*2 > n {
		perm := rnd.Perm(n)[:k]
		out := make([]int32, k)
		for i, p := range perm {
			out[i] = int32(p)
		}
		if withDemo && !slices.Contains(out, demoIndex) {
			out[rnd.IntN(k)] = demoIndex
		}
		return out
	}
	seen := make(map[int32]struct{}, k)
	out := make([]int32, 0, k)
	if withDemo {
		seen[demoIndex] = struct{}{}
		out = append(out, demoIndex)
	}
	for len(out) < k {
		u := int32(rnd.IntN(n))
		if _, dup := seen[u]; !dup {
			seen[u] = struct{}{}
			out = append(out, u)
		}
	}
	// Do not let the demo user always be the admin.
	rnd.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (g *graph) buildAlbums(rnd *rand.Rand) {
	add := func(title string, u, gr int32) {
		g.albums = append(g.albums, album{
			aid: idAt(rnd, albumIDBase, len(g.albums)), title: title, user: u, group: gr, photos: rnd.IntN(200),
		})
	}
	for i := range g.groups {
		for k := range 1 + rnd.IntN(3) {
			add("Альбом "+strconv.Itoa(k+1), -1, int32(i))
		}
	}
	for i := range g.users {
		for k := range rnd.IntN(3) {
			add("Личное "+strconv.Itoa(k+1), int32(i), -1)
		}
	}
	g.groupAlbums = make([]int, len(g.groups))
	g.groupPhotos = make([]int, len(g.groups))
	for _, a := range g.albums {
		if a.group >= 0 {
			g.groupAlbums[a.group]++
			g.groupPhotos[a.group] += a.photos
		}
	}
}

func (g *graph) buildTopics(rnd *rand.Rand) {
	add := func(u, gr, author int32) {
		t := topic{
			id: idAt(rnd, topicIDBase, len(g.topics)), user: u, group: gr, author: author,
			created: referenceTime.Add(-time.Duration(rnd.IntN(365*24*3600)) * time.Second),
			text:    topicPhrases[rnd.IntN(len(topicPhrases))] + " " + topicPhrases[rnd.IntN(len(topicPhrases))],
		}
		g.topics = append(g.topics, t)
	}
	for i := range g.groups {
		gr := &g.groups[i]
		k := rnd.IntN(5)
		if i == 0 {
			k += 3
		}
		for range k {
			add(-1, int32(i), gr.members[rnd.IntN(min(3, len(gr.members)))].user)
		}
	}
	for i := range g.users {
		if i == demoIndex || rnd.IntN(3) == 0 {
			add(int32(i), -1, int32(i))
		}
	}
	g.byTopic = make(map[string]int32, len(g.topics))
	g.groupTopics = make([]int, len(g.groups))
	for i, t := range g.topics {
		g.byTopic[t.id] = int32(i)
		if t.group >= 0 {
			g.groupTopics[t.group]++
		}
	}
}

// lookupUser returns the index of the user with uid.
func (g *graph) lookupUser(uid string) (int32, bool) {
	i, ok := g.byUID[uid]
	return i, ok
}

// lookupGroup returns the index of the group with gid.
func (g *graph) lookupGroup(gid string) (int32, bool) {
	i, ok := g.byGID[gid]
	return i, ok
}

func (g *graph) areFriends(a, b int32) bool {
	_, ok := slices.BinarySearch(g.friends[a], b)
	return ok
}
