package ui

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/furusato"
)

// giftForm is the admin screen's catalogue form: a gift listed at a
// donation shop (a restock or a new price is the same id listed again).
// The server checks the gift rules (30%, local produce) and writes it to
// the shop's counters; what it refuses is said in its words.
type giftForm struct {
	shop, id, name        string
	donation, cost, stock string
	local                 bool
	listed                string // the last gift listed, to say so
}

// item is the form as an item; false when a figure is not a whole
// number (said before anything is sent).
func (g giftForm) item() (furusato.Item, bool) {
	n := func(s string) (int64, bool) {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return v, err == nil
	}
	donation, ok1 := n(g.donation)
	cost, ok2 := n(g.cost)
	stock, ok3 := n(g.stock)
	it := furusato.Item{ID: strings.TrimSpace(g.id), NameJA: strings.TrimSpace(g.name), Donation: donation, Cost: cost, Stock: int(stock), Local: g.local}
	return it, ok1 && ok2 && ok3
}

// listGift sends the form's gift to the city's catalogue endpoint.
func (p *adminPage) listGift() {
	g := &p.gift
	it, ok := g.item()
	if !ok || g.shop == "" {
		p.errMsg = p.tr("admin.gift.figures")
		return
	}
	req := struct {
		admin.Request
		Shop string        `json:"shop"`
		Item furusato.Item `json:"item"`
	}{p.token(), g.shop, it}
	var out furusato.Item
	p.call(furusato.ItemPath, req, &out, func() {
		p.gift = giftForm{shop: g.shop, local: true, listed: out.NameJA}
	})
}

// giftsView is the catalogue form, for staff who manage facilities.
func (p *adminPage) giftsView() app.UI {
	g := &p.gift
	var shops []facility.Facility
	for _, f := range p.ov.Facilities {
		if f.Kind == facility.Donation {
			shops = append(shops, f)
		}
	}
	input := func(id, key string, value *string, numeric bool) app.UI {
		in := app.Input().ID(id).Type("text").Value(*value).AutoComplete(false).
			OnInput(func(ctx app.Context, e app.Event) { *value = ctx.JSSrc().Get("value").String() })
		if numeric {
			in = in.Attr("inputmode", "numeric")
		}
		return app.Div().Body(app.Label().For(id).Text(p.tr(key)), in)
	}
	return app.Section().ID("gifts").Class("card").Body(
		app.H2().Text(p.tr("admin.gifts")),
		app.P().Class("hint").Text(p.tr("admin.gifts.h")),
		app.Form().ID("gift-form").OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.listGift()
		}).Body(
			app.Label().For("gift-shop").Text(p.tr("admin.gift.shop")),
			app.Select().ID("gift-shop").OnChange(func(ctx app.Context, e app.Event) { g.shop = ctx.JSSrc().Get("value").String() }).Body(
				app.Option().Value("").Text(p.tr("admin.choose")).Selected(g.shop == ""),
				app.Range(shops).Slice(func(i int) app.UI {
					f := shops[i]
					return app.Option().Value(f.ID).Text(f.NameJA).Selected(g.shop == f.ID)
				}),
			),
			input("gift-id", "admin.gift.id", &g.id, false),
			input("gift-name", "admin.gift.name", &g.name, false),
			input("gift-donation", "admin.gift.donation", &g.donation, true),
			input("gift-cost", "admin.gift.cost", &g.cost, true),
			input("gift-stock", "admin.gift.stock", &g.stock, true),
			app.Label().Class("choice").Body(
				app.Input().ID("gift-local").Type("checkbox").Checked(g.local).
					OnChange(func(ctx app.Context, e app.Event) { g.local = ctx.JSSrc().Get("checked").Bool() }),
				app.Span().Text(p.tr("admin.gift.local")),
			),
			app.Div().Class("actions").Body(
				app.Button().ID("save-gift").Type("submit").Disabled(p.busy).Text(p.tr("admin.gift.save")),
			),
			app.If(g.listed != "", func() app.UI {
				return app.P().ID("gift-listed").Class("result ok").Attr("role", "status").Text(p.tr("admin.gift.listed", g.listed))
			}),
		),
	)
}

var giftText = map[string][2]string{
	"admin.gifts":         {"ふるさと納税の返礼品", "Hometown-tax gifts"},
	"admin.gifts.h":       {"寄附を受け付ける店舗の返礼品を登録します。調達費は寄附額の3割まで、地場産品に限ります。同じIDで登録し直すと在庫や金額を変えられます。", "List a gift at a donation shop: its cost at most 30 percent of the donation, local produce only. Listing the same id again changes its stock or figures."},
	"admin.gift.shop":     {"店舗", "Shop"},
	"admin.gift.id":       {"返礼品ID（英数字）", "Gift id (letters and digits)"},
	"admin.gift.name":     {"返礼品名", "Gift name (Japanese)"},
	"admin.gift.donation": {"寄附額（円）", "Donation (yen)"},
	"admin.gift.cost":     {"調達費（円）", "Cost to the city (yen)"},
	"admin.gift.stock":    {"在庫", "Stock"},
	"admin.gift.local":    {"地場産品です", "Local produce"},
	"admin.gift.save":     {"返礼品を登録", "List the gift"},
	"admin.gift.figures":  {"店舗を選び、寄附額・調達費・在庫を数字で入れてください。", "Pick the shop and enter the donation, cost and stock as numbers."},
	"admin.gift.listed":   {"「%s」を登録しました。", "“%s” is listed."},
}

func init() {
	for k, v := range giftText {
		text[k] = v
	}
}
